using System.Text.Json;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Safetensors;

/// <summary>
/// The weights of a Hugging Face model folder: one <c>model.safetensors</c>, or shards listed by
/// <c>model.safetensors.index.json</c> (<c>{"metadata": {...}, "weight_map": {tensor: file}}</c>). Every shard the
/// index names must exist and hold the tensors the index assigns to it.
/// </summary>
public sealed class SafetensorsCheckpoint : IDisposable
{
    readonly Dictionary<string, SafetensorsFile> _fileOf;
    readonly List<SafetensorsFile> _files;

    SafetensorsCheckpoint(string source, List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> fileOf, IReadOnlyDictionary<string, string> metadata)
    {
        Source = source;
        _files = files;
        _fileOf = fileOf;
        Metadata = metadata;
    }

    /// <summary>The folder, index or single file this was opened from.</summary>
    public string Source { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyCollection<string> TensorNames => _fileOf.Keys;
    public IReadOnlyList<SafetensorsFile> Files => _files;

    /// <summary>Opens a model folder, an index file or a single .safetensors file.</summary>
    public static SafetensorsCheckpoint Open(string path)
    {
        if (File.Exists(path))
        {
            PickleRefusal.ThrowIfPickle(path);
            return path.EndsWith(".index.json", StringComparison.Ordinal) ? OpenIndex(path) : OpenSingle(path);
        }
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"model folder not found: {path}");
        var index = Path.Combine(path, SafetensorsWriter.IndexFileName);
        if (File.Exists(index)) return OpenIndex(index);
        var single = Path.Combine(path, "model.safetensors");
        if (File.Exists(single)) return OpenSingle(single);
        var pickles = Directory.EnumerateFiles(path).Where(PickleRefusal.IsPickleCheckpoint).ToList();
        if (pickles.Count > 0) throw PickleRefusal.Refusal(pickles[0]);
        throw new FileNotFoundException(
            $"{path}: no model weights found: expected model.safetensors or {SafetensorsWriter.IndexFileName} with its shards");
    }

    static SafetensorsCheckpoint OpenSingle(string file)
    {
        var f = SafetensorsFile.Open(file);
        return new SafetensorsCheckpoint(file, [f], f.Entries.ToDictionary(e => e.Name, _ => f, StringComparer.Ordinal), f.Metadata);
    }

    static SafetensorsCheckpoint OpenIndex(string indexPath)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(indexPath, null, $"not valid JSON: {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException(indexPath, null, "missing object 'weight_map' ({tensor name: shard file})");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (doc.RootElement.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
                foreach (var m in meta.EnumerateObject())
                    metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();

            var dir = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
            var opened = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            var fileOf = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            try
            {
                foreach (var entry in map.EnumerateObject())
                {
                    if (entry.Value.ValueKind != JsonValueKind.String)
                        throw new SafetensorsFormatException(indexPath, entry.Name, "weight_map value must be a shard file name");
                    var shardName = entry.Value.GetString()!;
                    if (shardName.Contains('/') || shardName.Contains('\\') || shardName == "..")
                        throw new SafetensorsFormatException(indexPath, entry.Name, $"shard '{shardName}' must be a file name in the same folder");
                    if (!opened.TryGetValue(shardName, out var shard))
                    {
                        var shardPath = Path.Combine(dir, shardName);
                        PickleRefusal.ThrowIfPickle(shardPath);
                        if (!File.Exists(shardPath))
                            throw new SafetensorsFormatException(indexPath, entry.Name, $"shard '{shardName}' named in the index is missing from {dir}");
                        shard = SafetensorsFile.Open(shardPath);
                        opened[shardName] = shard;
                    }
                    if (!shard.Contains(entry.Name))
                        throw new SafetensorsFormatException(indexPath, entry.Name, $"the index places it in '{shardName}', which does not contain it");
                    fileOf[entry.Name] = shard;
                }
            }
            catch
            {
                foreach (var f in opened.Values) f.Dispose(); // release handles; the original error propagates unchanged
                throw;
            }
            return new SafetensorsCheckpoint(indexPath, opened.Values.ToList(), fileOf, metadata);
        }
    }

    public bool Contains(string name) => _fileOf.ContainsKey(name);

    public SafetensorsEntry Entry(string name) => FileOf(name).Entry(name);

    /// <summary>The .safetensors file (a shard, in a sharded checkpoint) that holds <paramref name="name"/>, for messages.</summary>
    public string PathOf(string name) => FileOf(name).Path;

    public Tensor Read(string name, Device? device = null, ScalarType? dtype = null) => FileOf(name).Read(name, device, dtype);

    public void ReadInto(string name, Tensor destination) => FileOf(name).ReadInto(name, destination);

    SafetensorsFile FileOf(string name) =>
        _fileOf.TryGetValue(name, out var f) ? f : throw new KeyNotFoundException($"{Source}: no tensor named '{name}'");

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
    }
}
