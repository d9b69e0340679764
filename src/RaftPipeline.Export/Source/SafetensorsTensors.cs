using System.Buffers.Binary;
using System.Text.Json;

namespace RaftPipeline.Export.Source;

/// <summary>
/// The tensors of a Hugging Face folder's safetensors files (one file, or the shards an index names), read one at a
/// time as F32 values. A small reader of its own because the repository's full reader lives with TorchSharp
/// (RaftPipeline.Modeling.Safetensors) and this project must not load libtorch; it checks only what it relies on
/// (header length, dtype, byte range inside the file).
/// </summary>
public sealed class SafetensorsTensors
{
    public sealed record Entry(string Name, string File, string Dtype, long[] Shape, long Offset, long Length);

    readonly Dictionary<string, Entry> _entries;

    SafetensorsTensors(Dictionary<string, Entry> entries) => _entries = entries;

    public IReadOnlyCollection<Entry> Entries => _entries.Values;

    public bool Contains(string name) => _entries.ContainsKey(name);

    public Entry Get(string name) => _entries.TryGetValue(name, out var e) ? e
        : throw new ExportException(name, "tensor not found in the model's safetensors files");

    /// <summary>Opens every *.safetensors of <paramref name="folder"/> (or the one file <paramref name="folder"/> names).</summary>
    public static SafetensorsTensors Open(string folder)
    {
        var files = File.Exists(folder) ? [folder]
            : Directory.Exists(folder) ? Directory.GetFiles(folder, "*.safetensors").Order(StringComparer.Ordinal).ToArray()
            : throw new ExportException(folder, "not found");
        if (files.Length == 0) throw new ExportException(folder, "holds no *.safetensors file");
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var file in files)
            foreach (var e in ReadHeader(file))
                if (!entries.TryAdd(e.Name, e)) throw new ExportException(file, $"tensor '{e.Name}' is also in {entries[e.Name].File}");
        return new SafetensorsTensors(entries);
    }

    static List<Entry> ReadHeader(string file)
    {
        using var stream = File.OpenRead(file);
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Read(lengthBytes) != 8) throw new ExportException(file, "truncated: no 8-byte header length");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (n > 100_000_000 || (long)n > stream.Length - 8) throw new ExportException(file, $"header length {n} is not plausible for a {stream.Length}-byte file");
        var json = new byte[n];
        stream.ReadExactly(json);
        long dataStart = 8 + (long)n;
        var list = new List<Entry>();
        using var doc = JsonDocument.Parse(json);
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__") continue;
            var dtype = p.Value.GetProperty("dtype").GetString()!;
            var shape = p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            long length = offsets[1] - offsets[0];
            long count = shape.Aggregate(1L, (a, b) => a * b);
            int size = dtype switch { "F32" => 4, "F16" or "BF16" => 2, _ => 0 };
            if (size != 0 && length != count * size)
                throw new ExportException(file, $"tensor '{p.Name}': {length} bytes for shape [{string.Join(", ", shape)}] of {dtype}");
            if (dataStart + offsets[1] > stream.Length)
                throw new ExportException(file, $"tensor '{p.Name}' runs past the end of the file");
            list.Add(new Entry(p.Name, file, dtype, shape, dataStart + offsets[0], length));
        }
        return list;
    }

    /// <summary>The tensor's values as F32 (from F32, F16 or BF16 storage), row-major in PyTorch order.</summary>
    public float[] ReadFloats(string name)
    {
        var e = Get(name);
        var bytes = new byte[e.Length];
        using (var stream = File.OpenRead(e.File))
        {
            stream.Seek(e.Offset, SeekOrigin.Begin);
            stream.ReadExactly(bytes);
        }
        long count = e.Shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[count];
        switch (e.Dtype)
        {
            case "F32":
                for (long i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(i * 4)));
                break;
            case "F16":
                for (long i = 0; i < count; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan((int)(i * 2)));
                break;
            case "BF16":
                for (long i = 0; i < count; i++)
                    values[i] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)(i * 2))) << 16);
                break;
            default:
                throw new ExportException(e.File, $"tensor '{name}' is {e.Dtype}; export reads F32, F16 and BF16 weights " +
                    "(a quantized folder cannot be exported: export the 16-bit base or the merged model)");
        }
        return values;
    }
}
