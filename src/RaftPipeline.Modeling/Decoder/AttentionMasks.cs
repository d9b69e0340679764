using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// Position ids and the boolean attention mask from a 0/1 padding mask, as transformers' generate builds
/// them: position = cumsum(mask) − 1 with padded slots set to 1, so a left-padded row counts from 0 at its first
/// real token; a query sees keys that are not padding and not in its future.
/// </summary>
public static class AttentionMasks
{
    /// <summary>[B, past+T] mask → [B, T] position ids of the last <paramref name="length"/> positions.</summary>
    public static Tensor PositionIds(Tensor paddingMask, long length)
    {
        using var scope = torch.NewDisposeScope();
        var positions = paddingMask.to(ScalarType.Int64).cumsum(-1) - 1;
        positions = positions.masked_fill(paddingMask.eq(0), 1);
        long total = paddingMask.shape[1];
        return positions.narrow(1, total - length, length).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Boolean [B, 1, T, past+T], true where query i (at absolute index past+i) may attend key j. A query on a
    /// padded slot would see no key at all (SDPA then yields NaN); it is allowed to see itself instead. Its output
    /// is never used, and no real query sees a padded key, so real positions are unaffected.
    /// </summary>
    public static Tensor Causal(Tensor? paddingMask, long batch, long past, long length, Device device)
    {
        using var scope = torch.NewDisposeScope();
        long total = past + length;
        var queryIndex = torch.arange(past, total, ScalarType.Int64, device).view(-1, 1);
        var keyIndex = torch.arange(0, total, ScalarType.Int64, device).view(1, -1);
        var mask = keyIndex.le(queryIndex).view(1, 1, length, total);
        if (paddingMask is not null)
        {
            var keep = paddingMask.to(ScalarType.Bool).view(batch, 1, 1, total);
            mask = mask.logical_and(keep).logical_or(keyIndex.eq(queryIndex).view(1, 1, length, total));
        }
        else
        {
            mask = mask.expand(batch, 1, length, total);
        }
        return mask.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Position ids for packed rows: <paramref name="segmentIds"/> [B, T] int64 numbers each packed row's tokens
    /// (equal ids on a contiguous run, 0 = padding); every run counts from 0 at its first token, as if it were
    /// alone in its own sequence (what transformers' packing with position_ids does).
    /// </summary>
    public static Tensor SegmentPositionIds(Tensor segmentIds)
    {
        using var scope = torch.NewDisposeScope();
        long b = segmentIds.shape[0], t = segmentIds.shape[1];
        var index = torch.arange(0, t, ScalarType.Int64, segmentIds.device).view(1, -1).expand(b, t);
        // A run starts where the id differs from the one before (position 0 always starts one).
        var previous = torch.cat([torch.full(b, 1, -1L, ScalarType.Int64, segmentIds.device), segmentIds.narrow(1, 0, t - 1)], 1);
        var starts = torch.where(segmentIds.ne(previous), index, torch.zeros_like(index));
        var runStart = starts.cummax(1).values;
        return (index - runStart).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Boolean [B, 1, T, T] block-diagonal causal mask for packed rows: query i sees key j only when j ≤ i and both
    /// carry the same non-zero segment id, so no packed row attends to another. Padding queries (id 0) see only
    /// themselves (their outputs are never used; an all-false row would give NaN in SDPA).
    /// </summary>
    public static Tensor SegmentCausal(Tensor segmentIds)
    {
        using var scope = torch.NewDisposeScope();
        long b = segmentIds.shape[0], t = segmentIds.shape[1];
        var device = segmentIds.device;
        var queryIndex = torch.arange(0, t, ScalarType.Int64, device).view(-1, 1);
        var keyIndex = torch.arange(0, t, ScalarType.Int64, device).view(1, -1);
        var causal = keyIndex.le(queryIndex).view(1, t, t);
        var sameRow = segmentIds.view(b, t, 1).eq(segmentIds.view(b, 1, t));
        var realKey = segmentIds.ne(0).view(b, 1, t);
        var mask = causal.logical_and(sameRow).logical_and(realKey)
            .logical_or(keyIndex.eq(queryIndex).view(1, t, t));
        return mask.view(b, 1, t, t).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <paramref name="mask"/> [B, 1, T, past+T] narrowed to a sliding window: query i (absolute index past+i) keeps key j
    /// only when j > past+i − window, so it sees at most <paramref name="window"/> keys, itself included (transformers'
    /// sliding_window_overlay: kv_idx > q_idx − sliding_window, on cache indices, padding slots counted).
    /// </summary>
    public static Tensor WithinWindow(Tensor mask, long past, long window)
    {
        using var scope = torch.NewDisposeScope();
        long length = mask.shape[2], total = mask.shape[3];
        var queryIndex = torch.arange(past, past + length, ScalarType.Int64, mask.device).view(-1, 1);
        var keyIndex = torch.arange(0, total, ScalarType.Int64, mask.device).view(1, -1);
        return mask.logical_and(keyIndex.gt(queryIndex - window).view(1, 1, length, total)).MoveToOuterDisposeScope();
    }
}
