using RaftPipeline.Modeling.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Checkpointing;

/// <summary>
/// The autograd node behind <see cref="RecomputeCheckpoint"/>. Forward runs the block without building a graph and
/// keeps only its input (and the CPU RNG state, so dropout draws the same mask twice); backward re-runs the block
/// with grad enabled and backpropagates the incoming gradient through that fresh graph with
/// <c>torch.autograd.grad</c>, returning the gradients of the input and of every trainable tensor of the block. The
/// trainable tensors are passed as inputs of the node so that the engine accumulates their gradients itself (this is
/// torch's non-reentrant flavour in effect: it also works when the block input does not require grad, e.g. the
/// output of a frozen embedding, without HF's enable_input_require_grads hook).
/// </summary>
sealed class RecomputeFunction : autograd.SingleTensorFunction<RecomputeFunction>
{
    public override string Name => nameof(RecomputeFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var block = (Func<Tensor, Tensor>)vars[1];
        var trainable = vars.Skip(2).Cast<Tensor>().ToArray();
        byte[] rng = RngBytes();
        ctx.save_for_backward([input]);
        ctx.save_data("block", block);
        ctx.save_data("trainable", trainable);
        ctx.save_data("rng", rng);
        ctx.save_data("input_grad", input.requires_grad);
        // Intermediates die with this scope at once (not at the next GC): only the output leaves it.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return block(input).MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        // The scope first: it must own the unpacked saved input too (a layer's input, 10 MB on the Qwen3-4B shape per
        // layer and step), else that wrapper lives until the garbage collector runs; measured: device memory grew by
        // ~0.3 GB every few steps once the host made little garbage.
        using var scope = BackwardTensors.Scope(gradOutput); // the recomputed graph's tensors are freed as soon as we return
        var input = ctx.get_saved_variables()[0];
        var block = (Func<Tensor, Tensor>)ctx.get_data("block");
        var trainable = (Tensor[])ctx.get_data("trainable");
        var rng = (byte[])ctx.get_data("rng");
        bool inputGrad = (bool)ctx.get_data("input_grad");

        var results = new List<Tensor>(2 + trainable.Length);
        using var enable = enable_grad();
        var x = input.detach().requires_grad_(inputGrad);
        // Replay the forward's random draws, then put the generator back where backward found it.
        byte[] current = RngBytes();
        SetRng(rng);
        Tensor y;
        try { y = block(x); }
        finally { SetRng(current); }

        var wrt = (inputGrad ? new[] { x } : []).Concat(trainable).ToList();
        var grads = autograd.grad([y], wrt, [gradOutput], allow_unused: true);
        int k = 0;
        results.Add(inputGrad ? Defined(grads[k++]) : null!);
        results.Add(null!); // the block delegate
        for (int i = 0; i < trainable.Length; i++) results.Add(Defined(grads[k++]));
        return results;
    }

    // On CUDA this runs on libtorch's device thread, outside the trainer's scopes: see BackwardTensors.
    static Tensor Defined(Tensor t) => t is null || t.IsInvalid ? null! : BackwardTensors.Return(t);

    // TorchSharp's context refuses tensors in save_data, so the generator state travels as bytes.
    static byte[] RngBytes()
    {
        using var state = torch.random.get_rng_state();
        return state.data<byte>().ToArray();
    }

    static void SetRng(byte[] bytes)
    {
        using var state = tensor(bytes, dtype: ScalarType.Byte);
        torch.random.set_rng_state(state);
    }
}
