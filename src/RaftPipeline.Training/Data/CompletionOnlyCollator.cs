using static TorchSharp.torch;

namespace RaftPipeline.Training.Data;

/// <summary>
/// Completion-only labelling and batching, the equivalent of TRL's <c>DataCollatorForCompletionOnlyLM</c> with
/// one deliberate difference: padding is masked by POSITION, not by token id. The notebook sets pad = eos
/// (<c>&lt;|im_end|&gt;</c>); TRL's parent collator then sets every label equal to the pad id to -100, which also
/// removes the answer's closing <c>&lt;|im_end|&gt;</c>, so that model is never taught to stop. Here the closing
/// <c>&lt;|im_end|&gt;</c> of the answer is a supervised token and only the padding positions are ignored.
/// </summary>
public sealed class CompletionOnlyCollator
{
    readonly CollatorOptions _options;

    public CompletionOnlyCollator(CollatorOptions options)
    {
        options.Validate();
        _options = options;
    }

    public CollatorOptions Options => _options;

    /// <summary>Truncates a row to max_seq_length (right side, as SFTTrainer does) and masks its context.</summary>
    public LabeledRow Label(IReadOnlyList<int> tokenIds)
    {
        int[] full = tokenIds as int[] ?? tokenIds.ToArray();
        int keep = Math.Min(full.Length, _options.MaxSeqLength);
        int[] ids = full[..keep];
        var labels = new int[keep];
        Array.Fill(labels, CollatorOptions.IgnoreIndex);

        int start = ResponseTemplate.FindLast(ids, _options.ResponseTemplateIds);
        if (start < 0)
        {
            var status = ResponseTemplate.FindLast(full, _options.ResponseTemplateIds) >= 0
                ? RowStatus.AnswerCutAway
                : RowStatus.TemplateMissing;
            return new LabeledRow(ids, labels, status);
        }
        int answerStart = start + _options.ResponseTemplateIds.Count;
        for (int i = answerStart; i < keep; i++) labels[i] = ids[i];
        RowStatus result = answerStart >= keep
            ? RowStatus.AnswerCutAway
            : keep < full.Length ? RowStatus.Truncated : RowStatus.Ok;
        return new LabeledRow(ids, labels, result);
    }

    /// <summary>Right-pads rows to the longest one and builds the batch tensors on <paramref name="device"/>.</summary>
    public TrainingBatch Collate(IReadOnlyList<LabeledRow> rows, Device? device = null)
    {
        if (rows.Count == 0) throw new ArgumentException("cannot collate an empty batch", nameof(rows));
        int width = rows.Max(r => r.InputIds.Length);
        var ids = new long[rows.Count * width];
        var mask = new long[rows.Count * width];
        var labels = new long[rows.Count * width];
        bool packed = rows.Any(r => r.SegmentIds is not null);
        var segments = packed ? new long[rows.Count * width] : null;
        int real = 0, supervised = 0;
        for (int b = 0; b < rows.Count; b++)
        {
            var row = rows[b];
            int offset = b * width;
            for (int t = 0; t < width; t++)
            {
                bool isReal = t < row.InputIds.Length;
                ids[offset + t] = isReal ? row.InputIds[t] : _options.PadTokenId;
                mask[offset + t] = isReal ? 1 : 0;
                labels[offset + t] = isReal ? row.Labels[t] : CollatorOptions.IgnoreIndex; // by position
                if (segments is not null) segments[offset + t] = !isReal ? 0 : row.SegmentIds?[t] ?? 1;
            }
            real += row.InputIds.Length;
            supervised += row.SupervisedTokens;
        }
        long[] shape = [rows.Count, width];
        var (lossRows, lossTargets) = ShiftedSupervised(labels, rows.Count, width);
        return new TrainingBatch(
            tensor(ids, shape, device: device),
            tensor(mask, shape, device: device),
            tensor(labels, shape, device: device),
            real, supervised,
            segments is null ? null : tensor(segments, shape, device: device))
        {
            LossRows = tensor(lossRows, device: device),
            LossTargets = tensor(lossTargets, device: device),
            HasPadding = real < rows.Count * width,
        };
    }

    /// <summary>
    /// Position t of row b predicts label t+1: the flattened index b·(width−1)+t of every shifted position whose
    /// label is not ignored, and that label.
    /// </summary>
    static (long[] Rows, long[] Targets) ShiftedSupervised(long[] labels, int batch, int width)
    {
        var rowIndex = new List<long>();
        var targets = new List<long>();
        for (int b = 0; b < batch; b++)
            for (int t = 0; t + 1 < width; t++)
            {
                long label = labels[b * width + t + 1];
                if (label == CollatorOptions.IgnoreIndex) continue;
                rowIndex.Add(b * (long)(width - 1) + t);
                targets.Add(label);
            }
        return (rowIndex.ToArray(), targets.ToArray());
    }
}
