using RaftPipeline.Modeling.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// Qwen3-MoE's sparse block (Qwen3MoeSparseMoeBlock), in a decoder layer's "mlp" place: the router picks k experts per
/// token with their weights, each expert runs on the tokens routed to it only, and the weighted outputs are summed back
/// per token. The dispatch sorts the token-expert assignments by expert and gathers each expert's rows with
/// index_select, so memory stays at the routed tokens (tokens · k rows in all), never a dense [experts × tokens × hidden]
/// tensor. Experts run in ascending order and add into the output as transformers' index_add_ loop does. Reference math
/// only: there is no fused path for it (see <see cref="FusedPaths"/>).
/// </summary>
public sealed class SparseMoeBlock : nn.Module
{
    public MoeRouter gate;
    public MoeExperts experts;

    public SparseMoeBlock(ModelConfig config, ScalarType dtype, Device device) : base(nameof(SparseMoeBlock))
    {
        var moe = config.Moe ?? throw new ArgumentException("a sparse block needs the config's experts (ModelConfig.Moe)");
        gate = new MoeRouter(config, moe, dtype, device);
        experts = new MoeExperts(config, moe, dtype, device);
        RegisterComponents();
    }

    /// <param name="hidden">[B, T, hidden]</param>
    public Tensor Forward(Tensor hidden)
    {
        using var scope = torch.NewDisposeScope();
        long width = hidden.shape[^1];
        var x = hidden.reshape(-1, width);
        var (weights, chosen) = gate.Route(x);
        long k = chosen.shape[1];
        // One row per (token, choice), sorted by expert (stable: tokens stay in order within an expert).
        var (_, order) = chosen.flatten().sort(0, descending: false, stable: true);
        var tokenOf = order.div(k, RoundingMode.floor);
        var weightOf = weights.flatten().index_select(0, order).unsqueeze(-1);
        var counts = torch.bincount(chosen.flatten(), minlength: experts.Count).cpu().data<long>().ToArray(); // one host sync per layer
        var output = torch.zeros_like(x);
        long offset = 0;
        for (int e = 0; e < experts.Count; e++)
        {
            long n = counts[e];
            if (n == 0) continue;
            var rows = tokenOf.narrow(0, offset, n);
            var y = experts.Forward(e, x.index_select(0, rows)) * weightOf.narrow(0, offset, n);
            // In place, as transformers' index_add_: an out-of-place add would keep one [tokens, hidden] copy per expert
            // alive in this dispose scope, the dense blow-up this dispatch exists to avoid.
            output.index_add_(0, rows, y.to(output.dtype), 1);
            offset += n;
        }
        return output.view(hidden.shape).MoveToOuterDisposeScope();
    }
}
