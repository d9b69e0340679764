using RaftPipeline.Modeling.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Quantization;

/// <summary>
/// x · dequant(W)ᵀ (+ b) for a frozen NF4 weight, bitsandbytes' MatMul4Bit: the dense weight exists only inside
/// forward and again inside backward (dL/dx = dL/dy · W), never between them. A plain linear over a dequantized weight
/// would keep every layer's dense weight alive until backward, i.e. the whole 16-bit model without checkpointing.
/// </summary>
sealed class Nf4MatmulFunction : autograd.SingleTensorFunction<Nf4MatmulFunction>
{
    public override string Name => nameof(Nf4MatmulFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var dequantize = (Func<Tensor>)vars[1];
        var bias = vars.Length > 2 ? (Tensor)vars[2] : null;
        ctx.save_data("dequantize", dequantize);
        ctx.save_data("has_bias", bias is not null);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var w = dequantize();
        return nn.functional.linear(x, w, bias).MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var dequantize = (Func<Tensor>)ctx.get_data("dequantize");
        using var scope = BackwardTensors.Scope(gradOutput); // see BackwardTensors: this may run on libtorch's device thread
        using var noGrad = no_grad();
        var w = dequantize();
        var gradX = BackwardTensors.Return(gradOutput.matmul(w));
        var grads = new List<Tensor> { gradX, null! };
        if (ctx.get_data("has_bias") is true) grads.Add(null!);
        return grads;
    }
}
