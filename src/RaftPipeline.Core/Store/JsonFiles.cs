using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaftPipeline.Core.Store;

/// <summary>
/// How the cache and run folders write JSON for people: indented, non-ASCII text kept readable (Korean
/// prompts stay Korean), keys in the order the writer built them, a final newline; written atomically.
/// </summary>
public static class JsonFiles
{
    public static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string ToText(JsonNode node) => node.ToJsonString(Indented).Replace("\r\n", "\n") + "\n";

    /// <summary>Writes to a temporary file beside <paramref name="path"/>, flushes it to disk, then renames it into place.</summary>
    public static void WriteAtomically(string path, JsonNode node) => WriteTextAtomically(path, ToText(node));

    public static void WriteTextAtomically(string path, string text)
    {
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                var bytes = new System.Text.UTF8Encoding(false).GetBytes(text);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            // A full disk or a folder gone read-only: leave no half-written temporary file behind.
            try { File.Delete(temp); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* nothing was created */ }
            throw;
        }
    }

    /// <summary>
    /// Rewrites an existing file in place (not atomic): the fallback when there is no room for a temporary copy. The old
    /// file's blocks are reused, so it succeeds on a full disk when the new text is not much longer than the old.
    /// </summary>
    public static void OverwriteInPlace(string path, string text)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        var bytes = new System.Text.UTF8Encoding(false).GetBytes(text);
        stream.Write(bytes);
        stream.SetLength(bytes.Length);
        stream.Flush(flushToDisk: true);
    }

    public static JsonObject ReadObject(string path) =>
        JsonNode.Parse(File.ReadAllText(path)) as JsonObject
        ?? throw new InvalidDataException($"{path}: expected a JSON object");
}
