namespace RaftPipeline.Training.Data;

/// <summary>
/// Packs short labelled rows into sequences of at most max_seq_length tokens (SFTTrainer's <c>packing=True</c>), so
/// a batch carries less padding. Greedy first-fit in row order: each row goes into the first pack with room for it,
/// else opens a new pack; the result is a pure function of the rows' order and lengths. A row is never split.
/// Each packed row keeps its labels, except that its first label is forced to −100, so the last token of the row
/// before it never learns to predict across the boundary; <see cref="LabeledRow.SegmentIds"/> numbers the packed
/// rows 1, 2, … so the model attends within a row only and restarts positions at 0 (no cross-row leak).
/// </summary>
public static class RowPacker
{
    public static List<LabeledRow> Pack(IReadOnlyList<LabeledRow> rows, int maxSeqLength)
    {
        if (maxSeqLength < 1)
            throw new ArgumentOutOfRangeException(nameof(maxSeqLength), maxSeqLength, "max_seq_length must be at least 1");
        var packs = new List<List<LabeledRow>>();
        var used = new List<int>();
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.SegmentIds is not null)
                throw new ArgumentException($"row {r} is already a packed sequence; pack labelled rows only", nameof(rows));
            int length = row.InputIds.Length;
            if (length == 0) continue; // nothing to attend to or learn
            if (length > maxSeqLength)
                throw new ArgumentException(
                    $"row {r} has {length} tokens, more than max_seq_length {maxSeqLength}; label (truncate) rows before packing", nameof(rows));
            int target = used.FindIndex(u => u + length <= maxSeqLength);
            if (target < 0)
            {
                packs.Add([]);
                used.Add(0);
                target = packs.Count - 1;
            }
            packs[target].Add(row);
            used[target] += length;
        }
        return packs.Select(Concatenate).ToList();
    }

    static LabeledRow Concatenate(List<LabeledRow> members)
    {
        int total = members.Sum(m => m.InputIds.Length);
        var ids = new int[total];
        var labels = new int[total];
        var segments = new int[total];
        int offset = 0;
        for (int k = 0; k < members.Count; k++)
        {
            var m = members[k];
            m.InputIds.CopyTo(ids, offset);
            m.Labels.CopyTo(labels, offset);
            labels[offset] = CollatorOptions.IgnoreIndex; // the previous row's last token must not predict this one
            Array.Fill(segments, k + 1, offset, m.InputIds.Length);
            offset += m.InputIds.Length;
        }
        // A pack learns if any member does; the per-row statuses were reported before packing.
        var status = members.Any(m => m.SupervisedTokens > 0) ? RowStatus.Ok : members[0].Status;
        return new LabeledRow(ids, labels, status, segments);
    }
}
