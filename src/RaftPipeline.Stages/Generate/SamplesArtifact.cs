using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RaftPipeline.Stages.Generate;

/// <summary>
/// The generate stage's artifact: <c>samples.jsonl</c> (one {"probe","system","user","base","tuned"} per probe, Korean
/// unescaped) and <c>samples.md</c> (each probe's messages, then base and tuned side by side).
/// </summary>
public static class SamplesArtifact
{
    public const string SamplesFile = "samples.jsonl";
    public const string MarkdownFile = "samples.md";

    static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(string directory, IReadOnlyList<SampleRecord> samples)
    {
        using (var stream = File.Create(Path.Combine(directory, SamplesFile)))
        {
            foreach (var s in samples)
            {
                using (var json = new Utf8JsonWriter(stream, WriterOptions))
                {
                    json.WriteStartObject();
                    json.WriteString("probe", s.Probe);
                    WriteNullable(json, "system", s.System);
                    json.WriteString("user", s.User);
                    WriteNullable(json, "base", s.Base);
                    WriteNullable(json, "tuned", s.Tuned);
                    json.WriteEndObject();
                }
                stream.WriteByte((byte)'\n');
            }
        }
        File.WriteAllText(Path.Combine(directory, MarkdownFile), ToMarkdown(samples), new UTF8Encoding(false));
    }

    public static List<SampleRecord> Read(string directory)
    {
        string path = Path.Combine(directory, SamplesFile);
        var samples = new List<SampleRecord>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var r = doc.RootElement;
                samples.Add(new SampleRecord(r.GetProperty("probe").GetString()!, r.GetProperty("system").GetString(),
                    r.GetProperty("user").GetString()!, r.GetProperty("base").GetString(), r.GetProperty("tuned").GetString()));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidDataException($"{path}: line {lineNumber}: expected {{\"probe\",\"system\",\"user\",\"base\",\"tuned\"}}: {e.Message}", e);
            }
        }
        return samples;
    }

    public static string ToMarkdown(IReadOnlyList<SampleRecord> samples)
    {
        var md = new StringBuilder("# Samples\n");
        foreach (var s in samples)
        {
            md.Append($"\n## {s.Probe}\n\n");
            md.Append($"**System:** {(s.System is null ? "_(none)_" : Inline(s.System))}\n\n");
            md.Append($"**User:** {Inline(s.User)}\n\n");
            md.Append("| base | tuned |\n|---|---|\n");
            md.Append($"| {Cell(s.Base)} | {Cell(s.Tuned)} |\n");
        }
        return md.ToString();
    }

    /// <summary>Inside a table cell: pipes escaped too, so a multi-line answer stays in its cell.</summary>
    static string Cell(string? text) =>
        text is null ? "_(not run)_" : text.Length == 0 ? "_(empty)_" : Inline(text).Replace("|", "\\|");

    /// <summary>One line of Markdown: &amp;, &lt; and &gt; as entities (answers hold things like &lt;think&gt;), line breaks as &lt;br&gt;.</summary>
    static string Inline(string text) =>
        text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\r\n", "\n").Replace("\n", "<br>");

    static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null) json.WriteNull(name);
        else json.WriteString(name, value);
    }
}
