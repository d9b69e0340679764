using RaftPipeline.Modeling.Decoder;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Loading;

/// <summary>
/// transformers' _init_weights for these decoders, with libtorch's RNG (for tests and benchmarks; the tiny
/// preset uses its own platform-independent PRNG instead): weights ~ N(0, std), biases 0, norm weights 1.
/// A positive <c>jitter</c> sets norm weights to 1 + jitter·N(0,1) and biases to jitter·N(0,1), so tests notice
/// a norm or bias that is skipped or misplaced.
/// </summary>
public static class RandomInit
{
    public static void Apply(CausalLM model, long seed, double? std = null, double jitter = 0.0)
    {
        var sigma = std ?? model.Config.InitializerRange;
        var generator = new torch.Generator((ulong)seed, torch.CPU);
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            using var scope = torch.NewDisposeScope();
            Tensor values;
            if (name.EndsWith("norm.weight", StringComparison.Ordinal))
                values = torch.ones(p.shape, ScalarType.Float32) + jitter * torch.randn(p.shape, ScalarType.Float32, generator: generator);
            else if (name.EndsWith(".bias", StringComparison.Ordinal))
                values = jitter * torch.randn(p.shape, ScalarType.Float32, generator: generator);
            else
                values = sigma * torch.randn(p.shape, ScalarType.Float32, generator: generator);
            p.copy_(values);
        }
    }
}
