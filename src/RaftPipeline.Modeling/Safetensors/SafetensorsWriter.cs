using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Safetensors;

/// <summary>
/// Writes safetensors files tensor by tensor: the header (padded with spaces to 8 bytes, as the reference
/// writer does) is computed from the declared shapes, then each tensor is produced, converted to its stored
/// dtype on the CPU, written and released before the next one.
/// </summary>
public static class SafetensorsWriter
{
    public const string IndexFileName = "model.safetensors.index.json";
    const long ChunkBytes = 1L << 28;

    public static void Write(string path, IReadOnlyList<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var duplicates = tensors.GroupBy(t => t.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0)
            throw new ArgumentException($"{path}: tensor names must be unique; repeated: {string.Join(", ", duplicates)}");
        var entries = new List<SafetensorsEntry>(tensors.Count);
        long offset = 0;
        foreach (var t in tensors)
        {
            var end = offset + t.ByteLength;
            entries.Add(new SafetensorsEntry(t.Name, SafetensorsDtype.NameOf(t.Dtype), t.Dtype, t.Shape, offset, end));
            offset = end;
        }
        var header = SafetensorsHeader.Serialize(metadata, entries);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20);
        stream.Write(BitConverter.GetBytes((ulong)header.Length));
        stream.Write(header);
        foreach (var t in tensors) WriteData(stream, t, path);
    }

    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors.Select(t => TensorToWrite.Of(t.Name, t.Tensor)).ToList(), metadata);

    /// <summary>
    /// Writes <paramref name="tensors"/> into <paramref name="directory"/> as Hugging Face does: one
    /// <c>{baseName}.safetensors</c> when everything fits in <paramref name="maxShardBytes"/>, otherwise
    /// <c>{baseName}-00001-of-0000N.safetensors</c> shards plus <c>{baseName}.safetensors.index.json</c>.
    /// A tensor larger than the limit gets a shard of its own (as transformers does). Returns the files written.
    /// </summary>
    public static IReadOnlyList<string> WriteSharded(string directory, IReadOnlyList<TensorToWrite> tensors, long maxShardBytes,
        IReadOnlyDictionary<string, string>? metadata = null, string baseName = "model")
    {
        if (maxShardBytes <= 0) throw new ArgumentOutOfRangeException(nameof(maxShardBytes), "must be positive");
        Directory.CreateDirectory(directory);
        var shards = new List<List<TensorToWrite>> { new() };
        long current = 0;
        foreach (var t in tensors)
        {
            if (shards[^1].Count > 0 && current + t.ByteLength > maxShardBytes)
            {
                shards.Add(new List<TensorToWrite>());
                current = 0;
            }
            shards[^1].Add(t);
            current += t.ByteLength;
        }
        if (shards.Count == 1)
        {
            var single = Path.Combine(directory, $"{baseName}.safetensors");
            Write(single, tensors, metadata ?? new Dictionary<string, string> { ["format"] = "pt" });
            return [single];
        }

        var written = new List<string>();
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < shards.Count; i++)
        {
            var name = $"{baseName}-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            var path = Path.Combine(directory, name);
            Write(path, shards[i], metadata ?? new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var t in shards[i]) weightMap[t.Name] = name;
            written.Add(path);
        }
        var indexPath = Path.Combine(directory, $"{baseName}.safetensors.index.json");
        using (var stream = File.Create(indexPath))
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("metadata");
            w.WriteNumber("total_size", tensors.Sum(t => t.ByteLength));
            w.WriteEndObject();
            w.WriteStartObject("weight_map");
            foreach (var (k, v) in weightMap) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        written.Add(indexPath);
        return written;
    }

    static void WriteData(Stream stream, TensorToWrite t, string path)
    {
        using var scope = torch.NewDisposeScope();
        var produced = t.Produce();
        if (!produced.shape.SequenceEqual(t.Shape))
            throw new InvalidOperationException(
                $"{path}: tensor '{t.Name}' was declared with shape [{string.Join(", ", t.Shape)}] but produced [{string.Join(", ", produced.shape)}]");
        using var noGrad = torch.no_grad();
        var cpu = produced.detach().to(t.Dtype, torch.CPU).contiguous();
        long elements = cpu.NumberOfElements;
        if (elements == 0) return;
        // Span-sized chunks (a Span is limited to 2 GiB), cut in whole elements of a flat view.
        long chunkElements = ChunkBytes / SafetensorsDtype.SizeOf(t.Dtype);
        var flat = cpu.view(-1);
        for (long done = 0; done < elements; done += chunkElements)
            stream.Write(flat.narrow(0, done, Math.Min(chunkElements, elements - done)).bytes);
    }
}
