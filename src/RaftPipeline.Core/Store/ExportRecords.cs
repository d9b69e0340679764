using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace RaftPipeline.Core.Store;

/// <summary>
/// What <c>raft run --export</c> (and a spec's top-level <c>export:</c>) copied out of this cache and where:
/// <c>&lt;root&gt;/exports/&lt;hash of the destination&gt;.json</c>, one record per destination folder, the latest export
/// to it. They serve two rules: <c>cache gc</c> keeps an exported artifact while its destination folder exists,
/// and an export may replace a non-empty folder only when a record says this cache exported to it.
/// </summary>
public sealed class ExportRecords(ArtifactStore store)
{
    public const string FolderName = "exports";

    public sealed record Export(string Destination, string Key, string Stage, string? Pipeline, DateTime ExportedUtc);

    public string Directory => Path.Combine(store.Root, FolderName);

    /// <summary>The record of the latest export to <paramref name="destination"/>, or null.</summary>
    public Export? Find(string destination)
    {
        var path = PathOf(destination);
        return File.Exists(path) ? Read(path) : null;
    }

    public void Add(Export export)
    {
        System.IO.Directory.CreateDirectory(Directory);
        JsonFiles.WriteAtomically(PathOf(export.Destination), new JsonObject
        {
            ["destination"] = Path.GetFullPath(export.Destination),
            ["key"] = export.Key,
            ["stage"] = export.Stage,
            ["pipeline"] = export.Pipeline,
            ["exported_utc"] = export.ExportedUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        });
    }

    /// <summary>Every readable record, by destination.</summary>
    public IReadOnlyList<Export> All()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        return System.IO.Directory.EnumerateFiles(Directory, "*.json")
            .Select(Read).OfType<Export>()
            .OrderBy(e => e.Destination, StringComparer.Ordinal).ToList();
    }

    string PathOf(string destination)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destination));
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(full)));
        return Path.Combine(Directory, hash[..24] + ".json");
    }

    static Export? Read(string path)
    {
        try
        {
            var o = JsonFiles.ReadObject(path);
            var key = o["key"]!.GetValue<string>();
            if (!ArtifactStore.IsKey(key)) return null;
            return new Export(
                o["destination"]!.GetValue<string>(), key, o["stage"]?.GetValue<string>() ?? "?", o["pipeline"]?.GetValue<string>(),
                DateTime.Parse(o["exported_utc"]!.GetValue<string>(), CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal));
        }
        catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or InvalidOperationException or FormatException or NullReferenceException)
        {
            return null; // a damaged record protects nothing; the export folder itself is untouched
        }
    }
}
