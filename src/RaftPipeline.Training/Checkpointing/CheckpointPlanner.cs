using RaftPipeline.Modeling.Config;

namespace RaftPipeline.Training.Checkpointing;

/// <summary>
/// <c>gradient_checkpointing: auto</c> on a GPU: recompute as few decoder layers as the free device memory requires.
/// Recomputing a layer costs about half its forward + backward again; not recomputing it keeps its activations
/// until backward. The estimate of those activations is per token and layer, in the activation dtype:
/// 10 × hidden (norm inputs/outputs, residuals, projection inputs) + 4 × q width + 4 × kv width (q/k/v before and
/// after norm and rotary, attention output) + 4 × intermediate (gate, up, their product, the down input). On the
/// Qwen3-4B shape that is 170.0 KB per token and layer; measured on an H100: 169.6 KB (19.55 − 8.18 GiB for 2 × 1,000
/// tokens × 36 layers, bench/RESULTS.md).
/// </summary>
public static class CheckpointPlanner
{
    /// <summary>Bytes of activations one token keeps alive in one decoder layer without recomputation.</summary>
    public static long ActivationBytesPerTokenPerLayer(ModelConfig c, int elementBytes = 2) =>
        elementBytes * (10L * c.HiddenSize + 4L * c.NumAttentionHeads * c.HeadDim + 4L * c.NumKeyValueHeads * c.HeadDim
                        + 4L * c.IntermediateSize);

    /// <summary>
    /// How many layers (the first ones) to recompute so that the kept activations of a micro-batch of
    /// <paramref name="tokensPerMicroBatch"/> tokens fit into <paramref name="freeBytes"/> after a reserve for the
    /// loss chunks, one recomputed layer, the optimizer and the allocator's slack (a quarter of what is free, and at
    /// least 2 GiB). 0 means no recomputation; the layer count means all layers.
    /// </summary>
    public static int LayersToRecompute(ModelConfig config, long tokensPerMicroBatch, long freeBytes)
    {
        long perLayer = ActivationBytesPerTokenPerLayer(config) * Math.Max(1, tokensPerMicroBatch);
        long reserve = Math.Max(2L << 30, freeBytes / 4);
        long budget = freeBytes - reserve;
        int layers = config.NumHiddenLayers;
        if (budget <= 0) return layers;
        long keepable = budget / perLayer; // layers whose activations fit
        return (int)Math.Clamp(layers - keepable, 0, layers);
    }
}
