using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Loss;

/// <summary>
/// Σ cross-entropy(h·Wᵀ, target) over rows, computed chunk by chunk in both directions so that at most
/// [chunk, vocab] logits exist at once (a batch of 2 × 1000 tokens over Qwen3's 151,936-token vocabulary would
/// otherwise hold 1.2 GB of fp32 logits plus as much again for their softmax, kept alive for backward).
/// Forward keeps only h, W and the targets; backward recomputes each chunk's logits and applies the closed-form
/// gradient dL/dlogits = softmax(logits) − onehot(target). Logits are computed in h's dtype and upcast to fp32
/// before the softmax, as transformers' ForCausalLMLoss does (<c>logits.float()</c>). The head's logit transform
/// (<see cref="OutputHead.Transform"/>, e.g. Gemma 2's soft-cap) applies to each chunk's logits in h's dtype, as the
/// forward pass does, and its derivative (<see cref="OutputHead.TransformBackward"/>) in backward.
/// </summary>
sealed class ChunkedCrossEntropyFunction : autograd.SingleTensorFunction<ChunkedCrossEntropyFunction>
{
    public override string Name => nameof(ChunkedCrossEntropyFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var hidden = (Tensor)vars[0];   // [N, H]
        var weight = (Tensor)vars[1];   // [V, H]
        var targets = (Tensor)vars[2];  // [N] int64
        int chunk = (int)vars[3];
        var head = (OutputHead)vars[4];
        ctx.save_for_backward([hidden, weight, targets]);
        ctx.save_data("chunk", chunk);
        ctx.save_data("head", head);
        ctx.save_data("weight_grad", weight.requires_grad);

        using var noGrad = no_grad();
        var lossType = LossType(hidden);
        var total = zeros(1, dtype: lossType, device: hidden.device);
        long n = hidden.shape[0];
        for (long start = 0; start < n; start += chunk)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(chunk, n - start);
            var logits = head.Transform(hidden.narrow(0, start, len).matmul(weight.t())).to(lossType); // [len, V]
            var t = targets.narrow(0, start, len).unsqueeze(1);
            var nll = logits.logsumexp(1) - logits.gather(1, t).squeeze(1);
            total.add_(nll.sum());
        }
        return total.squeeze(0);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        using var outer = BackwardTensors.Scope(gradOutput); // see BackwardTensors: on CUDA this runs on libtorch's device thread
        var saved = ctx.get_saved_variables();
        Tensor hidden = saved[0], weight = saved[1], targets = saved[2];
        int chunk = (int)ctx.get_data("chunk");
        var head = (OutputHead)ctx.get_data("head");
        bool weightGrad = (bool)ctx.get_data("weight_grad");

        using var noGrad = no_grad();
        var lossType = LossType(hidden);
        var gradHidden = zeros_like(hidden);
        var gradWeight = weightGrad ? zeros(weight.shape, dtype: lossType, device: weight.device) : null;
        var g = gradOutput.to(lossType);
        long n = hidden.shape[0];
        for (long start = 0; start < n; start += chunk)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(chunk, n - start);
            var h = hidden.narrow(0, start, len);
            var logits = head.Transform(h.matmul(weight.t())).to(lossType);
            var gradLogits = logits.softmax(1);
            var t = targets.narrow(0, start, len).unsqueeze(1);
            gradLogits.scatter_add_(1, t, full([len, 1], -1.0, dtype: lossType, device: logits.device));
            gradLogits.mul_(g);
            gradLogits = head.TransformBackward(gradLogits, logits);
            var gl = gradLogits.to(hidden.dtype); // the matmul ran in hidden's dtype: its backward does too
            gradHidden.narrow(0, start, len).copy_(gl.matmul(weight));
            gradWeight?.add_(gl.t().matmul(h).to(lossType));
        }
        return [BackwardTensors.Return(gradHidden), gradWeight is null ? null! : BackwardTensors.Return(gradWeight.to(weight.dtype)), null!, null!, null!];
    }

    /// <summary>fp32 at least (bf16/fp16 logits are upcast as transformers does); fp64 stays fp64 (tests).</summary>
    static ScalarType LossType(Tensor hidden) =>
        hidden.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
}
