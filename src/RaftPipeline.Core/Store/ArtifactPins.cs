using System.Globalization;
using System.Text.Json.Nodes;

namespace RaftPipeline.Core.Store;

/// <summary>
/// Pins (<c>raft cache pin</c>): artifacts <c>cache gc</c> never removes, whatever its other rules say. One small file
/// per pinned key, <c>&lt;root&gt;/pins/&lt;key&gt;.json</c> (what it is and when it was pinned), written atomically, so
/// pinning needs no cache lock and never waits for a run; gc reads the pin again just before it removes an entry.
/// </summary>
public sealed class ArtifactPins(ArtifactStore store)
{
    public const string FolderName = "pins";

    public sealed record Pin(string Key, string Stage, string? Pipeline, DateTime PinnedUtc);

    public string Directory => Path.Combine(store.Root, FolderName);

    string PathOf(string key)
    {
        if (!ArtifactStore.IsKey(key)) throw new ArgumentException($"'{key}' is not a stage key", nameof(key));
        return Path.Combine(Directory, key + ".json");
    }

    public bool IsPinned(string key) => File.Exists(PathOf(key));

    /// <summary>Pins the entry; pinning a pinned entry keeps its first date.</summary>
    public Pin Add(ArtifactEntry entry, DateTime nowUtc)
    {
        if (Find(entry.Key) is { } existing) return existing;
        System.IO.Directory.CreateDirectory(Directory);
        var pin = new Pin(entry.Key, entry.Manifest.Stage, entry.Manifest.Pipeline, nowUtc);
        JsonFiles.WriteAtomically(PathOf(entry.Key), new JsonObject
        {
            ["key"] = pin.Key,
            ["stage"] = pin.Stage,
            ["pipeline"] = pin.Pipeline,
            ["pinned_utc"] = pin.PinnedUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        });
        return pin;
    }

    /// <summary>Removes the pin; false when there was none.</summary>
    public bool Remove(string key)
    {
        var path = PathOf(key);
        if (!File.Exists(path)) return false;
        File.Delete(path);
        return true;
    }

    public Pin? Find(string key)
    {
        var path = PathOf(key);
        return File.Exists(path) ? Read(path) : null;
    }

    /// <summary>Every readable pin, by key.</summary>
    public IReadOnlyList<Pin> All()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        var pins = new List<Pin>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*.json").Order(StringComparer.Ordinal))
            if (ArtifactStore.IsKey(Path.GetFileNameWithoutExtension(path)) && Read(path) is { } pin) pins.Add(pin);
        return pins;
    }

    static Pin? Read(string path)
    {
        try
        {
            var o = JsonFiles.ReadObject(path);
            return new Pin(
                Path.GetFileNameWithoutExtension(path),
                o["stage"]?.GetValue<string>() ?? "?",
                o["pipeline"]?.GetValue<string>(),
                DateTime.Parse(o["pinned_utc"]?.GetValue<string>() ?? "2000-01-01T00:00:00Z", CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal));
        }
        catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            // A damaged pin file still pins its key (its name says which): keeping too much is the safe mistake.
            return new Pin(Path.GetFileNameWithoutExtension(path), "?", null, File.GetLastWriteTimeUtc(path));
        }
    }
}
