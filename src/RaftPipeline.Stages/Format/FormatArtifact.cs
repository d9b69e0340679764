using System.Text.Encodings.Web;
using System.Text.Json;
using RaftPipeline.Stages.Data;

namespace RaftPipeline.Stages.Format;

/// <summary>
/// The format stage's artifact folder, as analyze and train read it: <c>examples.jsonl</c> (the chat examples before
/// the template, <see cref="ChatExampleJsonl"/>) and <c>texts.jsonl</c>, one <c>{"text": ...}</c> per example in the
/// same order: the conversation rendered with the model's chat template, exactly what is tokenized for training.
/// </summary>
public static class FormatArtifact
{
    public const string ExamplesFile = "examples.jsonl";
    public const string TextsFile = "texts.jsonl";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void WriteTexts(string directory, IEnumerable<string> texts)
    {
        using var stream = File.Create(Path.Combine(directory, TextsFile));
        foreach (var text in texts)
        {
            using (var json = new Utf8JsonWriter(stream, WriterOptions))
            {
                json.WriteStartObject();
                json.WriteString("text", text);
                json.WriteEndObject();
            }
            stream.WriteByte((byte)'\n');
        }
    }

    public static List<string> ReadTexts(string directory)
    {
        string path = Path.Combine(directory, TextsFile);
        if (!File.Exists(path)) throw new DatasetFormatException($"{path}: missing: the format stage writes its rendered texts there");
        var texts = new List<string>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                throw new DatasetFormatException($"{path}: line {lineNumber}: not valid JSON: {e.Message}", e);
            }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object
                    || !doc.RootElement.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                    throw new DatasetFormatException($"{path}: line {lineNumber}: expected an object with a string 'text'");
                texts.Add(text.GetString()!);
            }
        }
        return texts;
    }
}
