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
}
