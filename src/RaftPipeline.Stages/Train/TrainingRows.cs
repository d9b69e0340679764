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

}
