using System.Text.Encodings.Web;
using System.Text.Json;
using RaftPipeline.Stages.Data;

namespace RaftPipeline.Stages.Format;

/// <summary>
/// The format stage's artifact folder, as analyze, train and eval read it. For the train split:
/// <c>examples.jsonl</c> (the chat examples before the template, <see cref="ChatExampleJsonl"/>) and
/// <c>texts.jsonl</c>, one <c>{"text": ...}</c> per example in the same order: the conversation rendered with the
/// model's chat template, exactly what is tokenized for training. The held-out split, formatted the same way, is
/// <c>test_examples.jsonl</c> and <c>test_texts.jsonl</c> (empty without a split). <c>files.json</c> is the load
/// stage's, copied so a model card can name the data files and their hashes from the format artifact alone.
/// </summary>
public static class FormatArtifact
{
    public const string ExamplesFile = "examples.jsonl";
    public const string TextsFile = "texts.jsonl";
    public const string TestExamplesFile = "test_examples.jsonl";
    public const string TestTextsFile = "test_texts.jsonl";
    public const string FilesFile = "files.json";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void WriteTexts(string directory, IEnumerable<string> texts) => WriteTextsFile(Path.Combine(directory, TextsFile), texts);
    public static void WriteTestTexts(string directory, IEnumerable<string> texts) => WriteTextsFile(Path.Combine(directory, TestTextsFile), texts);

    public static void WriteExamples(string directory, IEnumerable<ChatExample> examples) =>
        ChatExampleJsonl.Write(Path.Combine(directory, ExamplesFile), examples);

    public static void WriteTestExamples(string directory, IEnumerable<ChatExample> examples) =>
        ChatExampleJsonl.Write(Path.Combine(directory, TestExamplesFile), examples);

    /// <summary>The train split's rendered texts (what analyze and train's <c>data</c> read).</summary>
    public static List<string> ReadTexts(string directory) =>
        ReadTextsFile(Existing(directory, TextsFile, "its rendered texts"));

    /// <summary>The held-out split's rendered texts (what train's <c>eval_data</c> reads); empty without a split.</summary>
    public static List<string> ReadTestTexts(string directory) =>
        ReadTextsFile(Existing(directory, TestTextsFile, "the test split's rendered texts"));

    public static List<ChatExample> ReadExamples(string directory) =>
        ChatExampleJsonl.Read(Existing(directory, ExamplesFile, "its chat examples"));

    public static List<ChatExample> ReadTestExamples(string directory) =>
        ChatExampleJsonl.Read(Existing(directory, TestExamplesFile, "the test split's chat examples"));

    private static string Existing(string directory, string file, string what)
    {
        string path = Path.Combine(directory, file);
        return File.Exists(path) ? path : throw new DatasetFormatException($"{path}: missing: the format stage writes {what} there");
    }

    private static void WriteTextsFile(string path, IEnumerable<string> texts)
    {
        using var stream = File.Create(path);
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

    private static List<string> ReadTextsFile(string path)
    {
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
