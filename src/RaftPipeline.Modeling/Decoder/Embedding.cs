using RaftPipeline.Modeling.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>Token embedding table <c>weight</c> [vocab, hidden]; a row lookup (index_select keeps autograd).</summary>
public sealed class Embedding : nn.Module<Tensor, Tensor>
{
    public Parameter weight;

    public Embedding(long vocab, long hidden, ScalarType dtype, Device device) : base(nameof(Embedding))
    {
        weight = ParameterFactory.Empty([vocab, hidden], dtype, device);
        RegisterComponents();
    }

    /// <param name="ids">[B, T] int64</param><returns>[B, T, hidden]</returns>
    public override Tensor forward(Tensor ids)
    {
        using var scope = torch.NewDisposeScope();
        var rows = weight.index_select(0, ids.reshape(-1));
        return rows.view(ids.shape[0], ids.shape[1], weight.shape[1]).MoveToOuterDisposeScope();
    }
}
