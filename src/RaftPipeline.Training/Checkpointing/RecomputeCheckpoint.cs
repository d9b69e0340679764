using static TorchSharp.torch;

namespace RaftPipeline.Training.Checkpointing;

/// <summary>
/// Gradient checkpointing (activation recomputation) for one block, e.g. one decoder layer: TorchSharp has no
/// <c>torch.utils.checkpoint</c>. The block's intermediate activations are not kept between forward and backward;
/// only its input is, and backward recomputes the block. Memory for activations falls from Σ(per-layer
/// intermediates) to Σ(layer inputs) + one layer's intermediates, for one extra forward per layer.
/// The block must be a pure function of its input, the captured trainable tensors and the RNG state; anything else
/// it reads (masks, rotary tables) must stay alive until backward and not change in between.
/// </summary>
public static class RecomputeCheckpoint
{
    /// <summary>Runs <paramref name="block"/> on <paramref name="input"/> with recomputation in backward.</summary>
    /// <param name="trainable">Every tensor with requires_grad that the block uses (its LoRA factors, say).</param>
    public static Tensor Run(Func<Tensor, Tensor> block, Tensor input, IReadOnlyList<Tensor> trainable)
    {
        bool needsGraph = is_grad_enabled() && (input.requires_grad || trainable.Any(t => t.requires_grad));
        if (!needsGraph) return block(input); // inference / no_grad: nothing to save anyway
        var vars = new object[2 + trainable.Count];
        vars[0] = input;
        vars[1] = block;
        for (int i = 0; i < trainable.Count; i++) vars[2 + i] = trainable[i];
        return RecomputeFunction.apply(vars);
    }
}
