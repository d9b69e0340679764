using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Tests.Support;

/// <summary>A pre-norm residual MLP block with dropout: a stand-in for a decoder layer in recompute tests.</summary>
public sealed class ToyBlock : nn.Module<Tensor, Tensor>
{
    public readonly Linear up_proj;
    public readonly Linear down_proj;
    public readonly LayerNorm norm;
    readonly double _dropout;

    public ToyBlock(long hidden, long inner, double dropout) : base(nameof(ToyBlock))
    {
        up_proj = nn.Linear(hidden, inner);
        down_proj = nn.Linear(inner, hidden);
        norm = nn.LayerNorm(hidden);
        _dropout = dropout;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = nn.functional.gelu(up_proj.forward(norm.forward(x)));
        h = nn.functional.dropout(h, _dropout, training);
        return x + down_proj.forward(h);
    }
}
