using Microsoft.Win32.SafeHandles;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Safetensors;

/// <summary>
/// One open safetensors file. Tensors are read on demand with positional reads straight into the memory of a
/// CPU tensor of the stored dtype (no intermediate byte[] of the tensor's size), then converted/moved to the
/// requested device and dtype; so loading a model needs its size in the target dtype plus one tensor, never 2×.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>Bytes copied per read call (a Span is limited to 2 GiB, and big tensors exist).</summary>
    const long ChunkBytes = 1L << 28;

    readonly SafeFileHandle _handle;
    readonly Dictionary<string, SafetensorsEntry> _byName;

    SafetensorsFile(string path, SafeFileHandle handle, SafetensorsHeader header)
    {
        Path = path;
        _handle = handle;
        Header = header;
        _byName = header.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    public string Path { get; }
    public SafetensorsHeader Header { get; }
    public IReadOnlyDictionary<string, string> Metadata => Header.Metadata;
    public IReadOnlyList<SafetensorsEntry> Entries => Header.Entries;

    public static SafetensorsFile Open(string path)
    {
        PickleRefusal.ThrowIfPickle(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors file not found: {path}", path);
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            return new SafetensorsFile(path, handle, SafetensorsHeader.Read(handle, path));
        }
        catch
        {
            handle.Dispose(); // only releases the handle; the original error propagates unchanged
            throw;
        }
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public SafetensorsEntry Entry(string name) =>
        _byName.TryGetValue(name, out var e)
            ? e
            : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    /// <summary>Reads a tensor onto <paramref name="device"/> (default CPU) as <paramref name="dtype"/> (default: as stored).</summary>
    public Tensor Read(string name, Device? device = null, ScalarType? dtype = null)
    {
        var e = Entry(name);
        var stored = torch.empty(e.Shape, e.Dtype, torch.CPU);
        FillFromFile(e, stored);
        var targetDevice = device ?? torch.CPU;
        var targetType = dtype ?? e.Dtype;
        if (targetDevice.type == DeviceType.CPU && targetType == e.Dtype) return stored;
        using (stored)
            return stored.to(targetType, targetDevice);
    }

    /// <summary>
    /// Copies a stored tensor into an existing one (a parameter of a model built on its target device/dtype),
    /// converting on the way. Shapes must agree exactly.
    /// </summary>
    public void ReadInto(string name, Tensor destination)
    {
        var e = Entry(name);
        if (!destination.shape.SequenceEqual(e.Shape))
            throw new SafetensorsFormatException(Path, name,
                $"stored shape [{string.Join(", ", e.Shape)}] does not match the model's [{string.Join(", ", destination.shape)}]");
        using var noGrad = torch.no_grad();
        if (destination.device_type == DeviceType.CPU && destination.dtype == e.Dtype && destination.is_contiguous())
        {
            FillFromFile(e, destination);
            return;
        }
        using var stored = torch.empty(e.Shape, e.Dtype, torch.CPU);
        FillFromFile(e, stored);
        destination.copy_(stored);
    }

    void FillFromFile(SafetensorsEntry e, Tensor target)
    {
        long elements = e.ElementCount;
        if (elements == 0) return;
        int elementSize = e.ElementSize;
        long fileOffset = Header.DataStart + e.Begin;
        // Span-sized chunks (a Span is limited to 2 GiB), cut in whole elements of a flat view of the target.
        long chunkElements = ChunkBytes / elementSize;
        using var flat = target.view(-1);
        for (long done = 0; done < elements; done += chunkElements)
        {
            using var chunk = flat.narrow(0, done, Math.Min(chunkElements, elements - done));
            var span = chunk.bytes;
            long at = fileOffset + done * elementSize;
            int read = 0;
            while (read < span.Length)
            {
                int n = RandomAccess.Read(_handle, span[read..], at + read);
                if (n == 0)
                    throw new SafetensorsFormatException(Path, e.Name, $"unexpected end of file at offset {at + read}");
                read += n;
            }
        }
    }

    public void Dispose() => _handle.Dispose();
}
