using static TorchSharp.torch;

namespace RaftPipeline.Training.Distributed;

/// <summary>
/// Sums the trainable parameters' gradients over all ranks, in place, through few large collectives rather than one
/// per parameter: gradients are flattened into contiguous float32 buckets (float64 stays float64) on their own
/// device, reduced, and copied back; nothing goes through the host on CUDA. LoRA gradients are tens of MB, one bucket.
/// A rank whose rows produced no gradient for a parameter (no supervised token, or no rows in a short last step)
/// contributes zeros; a per-parameter "had a gradient" count travels in the same bucket, so a parameter no rank
/// touched keeps grad = null, as it would in one process (the optimizer skips it).
/// </summary>
public static class GradientBuckets
{
    /// <summary>64 Mi elements (256 MiB of float32) per collective call at most.</summary>
    public const long DefaultMaxBucketElements = 64L << 20;

    public static void AllReduceSum(ICollective collective, IReadOnlyList<Tensor> parameters, long maxBucketElements = DefaultMaxBucketElements)
    {
        if (parameters.Count == 0) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var bucket in Buckets(parameters, maxBucketElements))
        {
            var first = bucket[0];
            var dtype = first.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
            var pieces = new List<Tensor>(bucket.Count + 1);
            var had = new double[bucket.Count];
            for (int i = 0; i < bucket.Count; i++)
            {
                var p = bucket[i];
                var g = p.grad;
                bool present = g is not null && !g.IsInvalid;
                had[i] = present ? 1 : 0;
                pieces.Add(present ? g!.reshape(-1).to(dtype) : zeros(p.numel(), dtype: dtype, device: p.device));
            }
            pieces.Add(tensor(had, dtype: dtype, device: first.device));
            var flat = cat(pieces, 0).contiguous();
            collective.AllReduceSum([flat]);
            long offset = 0;
            var counts = flat.narrow(0, flat.shape[0] - bucket.Count, bucket.Count).to(ScalarType.Float64).cpu().data<double>().ToArray();
            for (int i = 0; i < bucket.Count; i++)
            {
                var p = bucket[i];
                long n = p.numel();
                var summed = flat.narrow(0, offset, n).view(p.shape).to(p.dtype);
                offset += n;
                if (counts[i] == 0) { p.grad = null; continue; }
                if (p.grad is { IsInvalid: false } g) g.copy_(summed);
                else p.grad = summed.clone();
            }
        }
    }

    static IEnumerable<List<Tensor>> Buckets(IReadOnlyList<Tensor> parameters, long maxElements)
    {
        var current = new List<Tensor>();
        long size = 0;
        foreach (var p in parameters)
        {
            bool sameKind = current.Count == 0 || (current[0].device_type == p.device_type && current[0].device_index == p.device_index && (current[0].dtype == ScalarType.Float64) == (p.dtype == ScalarType.Float64));
            if (current.Count > 0 && (!sameKind || size + p.numel() > maxElements))
            {
                yield return current;
                current = [];
                size = 0;
            }
            current.Add(p);
            size += p.numel();
        }
        if (current.Count > 0) yield return current;
    }
}
