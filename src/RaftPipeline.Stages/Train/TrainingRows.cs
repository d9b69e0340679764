using System.Text.Json;
using RaftPipeline.Stages.Data;
using RaftPipeline.Text.Tokenization;
using RaftPipeline.Training.Data;

namespace RaftPipeline.Stages.Train;

/// <summary>
/// Formatted texts → completion-only labelled rows: tokenized with the model's tokenizer as SFTTrainer does
/// (<c>tokenizer(text)</c>, special tokens as the tokenizer adds them; none for Qwen3), truncated and masked by
/// <see cref="CompletionOnlyCollator"/>.
/// </summary>
public static class TrainingRows
{
    /// <summary>The format artifact's held-out texts (same JSONL shape as texts.jsonl).</summary>
    public const string TestTextsFile = "test_texts.jsonl";

    /// <summary>
    /// The response template as token ids. Encoded on its own, which is exact for templates that open with a special
    /// token (<c>&lt;|im_start|&gt;assistant</c>): the pre-tokenizer always splits the special token off, so the
    /// ids that follow it are those of the remainder alone, in context too (see <see cref="ResponseTemplate"/>).
    /// </summary>
    public static int[] ResponseTemplateIds(HuggingFaceTokenizer tokenizer, string template)
    {
        var ids = tokenizer.Encode(template, addSpecialTokens: false);
        if (ids.Length == 0) throw new ArgumentException($"response_template '{template}' encodes to no tokens");
        return ids;
    }

    public static List<LabeledRow> Label(IReadOnlyList<string> texts, HuggingFaceTokenizer tokenizer, CompletionOnlyCollator collator,
        CancellationToken cancellationToken)
    {
        var rows = new List<LabeledRow>(texts.Count);
        foreach (var text in texts)
        {
            cancellationToken.ThrowIfCancellationRequested();
            rows.Add(collator.Label(tokenizer.Encode(text)));
        }
        return rows;
    }

    /// <summary>
    /// Interim reader for the format artifact's <c>test_texts.jsonl</c> until FormatArtifact.ReadTestTexts (format
    /// helper) is merged: one <c>{"text": ...}</c> per line, errors naming the file and line.
    /// </summary>
    public static List<string> ReadTestTexts(string directory)
    {
        string path = Path.Combine(directory, TestTextsFile);
        if (!File.Exists(path)) throw new DatasetFormatException($"{path}: missing: the format stage writes its held-out texts there");
        var texts = new List<string>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind != JsonValueKind.Object
                    || !doc.RootElement.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                    throw new DatasetFormatException($"{path}: line {lineNumber}: expected an object with a string 'text'");
                texts.Add(text.GetString()!);
            }
            catch (JsonException e)
            {
                throw new DatasetFormatException($"{path}: line {lineNumber}: not valid JSON: {e.Message}", e);
            }
        }
        return texts;
    }
}
