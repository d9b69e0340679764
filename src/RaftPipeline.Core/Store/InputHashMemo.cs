using System.Text.Json;
using System.Text.Json.Serialization;

namespace RaftPipeline.Core.Store;

/// <summary>
/// Remembers file hashes by (absolute path, size, last-write ticks) in <c>input-hashes.json</c> under the
/// cache root, so an 8 GB model folder is not rehashed on every run. A file whose size or mtime changed
/// is rehashed; a file touched without changing content hashes to the same value, so keys stay.
/// The memo is only an accelerator: losing it costs time, never correctness, so a damaged memo file is
/// discarded rather than reported.
/// </summary>
public sealed class InputHashMemo
{
    public const string FileName = "input-hashes.json";

    /// <summary>
    /// A file modified this recently may still change within the same mtime tick (the "racy git" problem),
    /// so its hash is not remembered until it is older.
    /// </summary>
    public static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);

    readonly string? _path;
    readonly Dictionary<string, Entry> _entries;
    readonly object _gate = new();
    bool _dirty;

    InputHashMemo(string? path, Dictionary<string, Entry> entries)
    {
        _path = path;
        _entries = entries;
    }

    /// <summary>A memo that remembers nothing across processes (for tests and one-off hashing).</summary>
    public static InputHashMemo InMemory() => new(null, new Dictionary<string, Entry>(StringComparer.Ordinal));

    public static InputHashMemo Open(string cacheRoot)
    {
        var path = Path.Combine(cacheRoot, FileName);
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        if (File.Exists(path))
        {
            try
            {
                var file = JsonSerializer.Deserialize<MemoFile>(File.ReadAllText(path));
                if (file is { Version: 1, Entries: not null })
                    foreach (var (key, value) in file.Entries) entries[key] = value;
            }
            catch (JsonException)
            {
                // A damaged memo only means rehashing: start afresh.
            }
        }
        return new InputHashMemo(path, entries);
    }

    public bool TryGet(string absolutePath, long size, long mtimeTicks, out string sha256)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(absolutePath, out var e) && e.Size == size && e.MtimeTicks == mtimeTicks)
            {
                sha256 = e.Sha256;
                return true;
            }
        }
        sha256 = "";
        return false;
    }

    public void Remember(string absolutePath, long size, long mtimeTicks, string sha256, DateTime hashedUtc)
    {
        if (hashedUtc - new DateTime(mtimeTicks, DateTimeKind.Utc) < RacyWindow) return;
        lock (_gate)
        {
            _entries[absolutePath] = new Entry(size, mtimeTicks, sha256);
            _dirty = true;
        }
    }

    /// <summary>Writes the memo if it changed (atomically: a temp file, then a rename).</summary>
    public void Save()
    {
        if (_path is null) return;
        lock (_gate)
        {
            if (!_dirty) return;
            var sorted = new SortedDictionary<string, Entry>(_entries, StringComparer.Ordinal);
            var json = JsonSerializer.Serialize(new MemoFile(1, sorted), new JsonSerializerOptions { WriteIndented = true });
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            JsonFiles.WriteTextAtomically(_path, json);
            _dirty = false;
        }
    }

    sealed record MemoFile(
        [property: JsonPropertyName("version")] int Version,
        [property: JsonPropertyName("entries")] IDictionary<string, Entry>? Entries);

    public sealed record Entry(
        [property: JsonPropertyName("size")] long Size,
        [property: JsonPropertyName("mtime_ticks")] long MtimeTicks,
        [property: JsonPropertyName("sha256")] string Sha256);
}
