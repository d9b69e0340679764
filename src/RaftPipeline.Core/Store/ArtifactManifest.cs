using System.Globalization;
using System.Text.Json.Nodes;

namespace RaftPipeline.Core.Store;

/// <summary>
/// What an artifact is and what it was built from: <c>manifest.json</c> in its entry folder. It is written
/// last, inside the staging folder, before the one rename that publishes the entry, so an entry folder under
/// objects/ always carries a complete manifest.
/// </summary>
/// <param name="Parameters">The stage's canonical parameters (snake_case, as in the key).</param>
/// <param name="Inputs">Slot → inputs: <c>{"stage","key"}</c> for an upstream artifact, <c>{"path","sha256"}</c> for an external one.
/// Paths here are for people; they are not part of the key.</param>
public sealed record ArtifactManifest(
    string Key,
    string Stage,
    string Kind,
    int ExecutorVersion,
    long Seed,
    JsonObject Parameters,
    JsonObject Inputs,
    IReadOnlyList<ManifestFile> Files,
    DateTime CreatedUtc,
    string ToolVersion,
    string? Pipeline)
{
    public const string FileName = "manifest.json";

    /// <summary>What the stage reported when it ran; a run that reuses the artifact reports them again.</summary>
    public JsonObject Metrics { get; init; } = new();

    public long TotalBytes => Files.Sum(f => f.Size);

    /// <summary>
    /// The digest of the artifact's content as published: the SHA-256 of one line <c>"&lt;sha256&gt;  &lt;path&gt;\n"</c>
    /// per file, in the manifest's (ordinal) order; the same rule as an external folder's hash
    /// (<see cref="ExternalInputHasher"/>), so an artifact and a copy of its data/ folder digest alike.
    /// Downstream manifests record it for each upstream artifact they were built from.
    /// </summary>
    public string ContentDigest => DigestOf(Files);

    public static string DigestOf(IEnumerable<ManifestFile> files)
    {
        var listing = new System.Text.StringBuilder();
        foreach (var f in files) listing.Append(f.Sha256).Append("  ").Append(f.Path).Append('\n');
        return ContentHash.OfText(listing.ToString());
    }

    /// <summary>An upstream artifact this one was built from: its stage, its key, and its content digest then (null in manifests older than the field).</summary>
    public sealed record UpstreamInput(string Slot, string Stage, string Key, string? Digest);

    /// <summary>The upstream artifacts among <see cref="Inputs"/> (external inputs are left out: their hash is in the key).</summary>
    public IReadOnlyList<UpstreamInput> UpstreamInputs()
    {
        var result = new List<UpstreamInput>();
        foreach (var (slot, node) in Inputs)
            foreach (var item in node as JsonArray ?? [])
                if (item is JsonObject o && o["stage"] is JsonValue stage && o["key"] is JsonValue key
                    && stage.TryGetValue<string>(out var stageName) && key.TryGetValue<string>(out var keyText))
                    result.Add(new UpstreamInput(slot, stageName, keyText,
                        o["digest"] is JsonValue d && d.TryGetValue<string>(out var digest) ? digest : null));
        return result;
    }

    public JsonObject ToJson()
    {
        var files = new JsonArray();
        foreach (var f in Files)
            files.Add(new JsonObject { ["path"] = f.Path, ["size"] = f.Size, ["sha256"] = f.Sha256 });
        return new JsonObject
        {
            ["key"] = Key,
            ["pipeline"] = Pipeline,
            ["stage"] = Stage,
            ["kind"] = Kind,
            ["executor_version"] = ExecutorVersion,
            ["seed"] = Seed,
            ["parameters"] = Parameters.DeepClone(),
            ["inputs"] = Inputs.DeepClone(),
            ["files"] = files,
            ["metrics"] = Metrics.DeepClone(),
            ["created_utc"] = CreatedUtc.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            ["tool_version"] = ToolVersion,
        };
    }

    /// <summary>Reads a manifest; throws <see cref="InvalidDataException"/> naming the file and the field when it is not one.</summary>
    public static ArtifactManifest Read(string path)
    {
        JsonObject o;
        try
        {
            o = JsonFiles.ReadObject(path);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})");
        }
        try
        {
            return FromJson(o, path);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
        {
            // A field of the wrong JSON type (GetValue throws InvalidOperationException) or a bad date.
            throw new InvalidDataException($"{path}: not a manifest ({e.Message})");
        }
    }

    static ArtifactManifest FromJson(JsonObject o, string path)
    {
        string Str(string name) => o[name]?.GetValue<string>() ?? throw new InvalidDataException($"{path}: missing '{name}'");
        var files = new List<ManifestFile>();
        foreach (var f in o["files"] as JsonArray ?? throw new InvalidDataException($"{path}: missing 'files'"))
            files.Add(new ManifestFile(
                f!["path"]!.GetValue<string>(), f["size"]!.GetValue<long>(), f["sha256"]!.GetValue<string>()));
        return new ArtifactManifest(
            Str("key"), Str("stage"), Str("kind"),
            o["executor_version"]?.GetValue<int>() ?? throw new InvalidDataException($"{path}: missing 'executor_version'"),
            o["seed"]?.GetValue<long>() ?? 0,
            o["parameters"] as JsonObject ?? new JsonObject(),
            o["inputs"] as JsonObject ?? new JsonObject(),
            files,
            DateTime.Parse(Str("created_utc"), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
            Str("tool_version"),
            o["pipeline"]?.GetValue<string>())
        {
            Metrics = o["metrics"] as JsonObject is { } m ? (JsonObject)m.DeepClone() : new JsonObject(),
        };
    }
}
