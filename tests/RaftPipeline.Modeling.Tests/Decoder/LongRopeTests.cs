using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Decoder;

/// <summary>
/// longrope as transformers 5.17's modeling_rope_utils computes it (_compute_longrope_parameters and the longrope branch
/// of dynamic_rope_update): the transformers-written fixture (Families/FamilyParityTests, case phi3_longrope) proves the
/// whole model; these pin the formula and the switch on their own.
/// </summary>
public class LongRopeTests
{
    static readonly RopeScaling Scaling = new()
    {
        Type = "longrope",
        Factor = 4.0,
        FactorDerived = true,
        ShortFactor = [1.0, 1.5, 2.5],
        LongFactor = [1.0, 7.0, 30.0],
        OriginalMaxPositionEmbeddings = 16,
    };

    public LongRopeTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void Short_factors_up_to_the_original_context_long_ones_past_it_and_one_cos_sin_scale_for_both()
    {
        const int dim = 6;
        const double theta = 10000.0;
        var (shortInv, shortScale) = RopeFrequencies.Compute(dim, theta, Scaling, 64, seqLen: 16);
        var (longInv, longScale) = RopeFrequencies.Compute(dim, theta, Scaling, 64, seqLen: 17);
        var (initInv, _) = RopeFrequencies.Compute(dim, theta, Scaling, 64);
        double expectedScale = Math.Sqrt(1 + Math.Log(4.0) / Math.Log(16));
        Assert.Equal(expectedScale, shortScale, 12);
        Assert.Equal(expectedScale, longScale, 12);
        for (int i = 0; i < dim / 2; i++)
        {
            double power = Math.Pow(theta, 2.0 * i / dim);
            Assert.Equal(1 / (Scaling.ShortFactor![i] * power), shortInv[i].item<float>(), 1e-6 / power);
            Assert.Equal(1 / (Scaling.LongFactor![i] * power), longInv[i].item<float>(), 1e-6 / power);
            Assert.Equal(shortInv[i].item<float>(), initInv[i].item<float>());
        }
    }

    [Fact]
    public void The_attention_factor_is_the_configs_when_given_and_one_when_the_context_is_not_extended()
    {
        Assert.Equal(1.3, RopeFrequencies.Compute(6, 1e4, Scaling with { AttentionFactor = 1.3 }, 64).AttentionScaling);
        Assert.Equal(1.0, RopeFrequencies.Compute(6, 1e4, Scaling with { Factor = 1.0 }, 16).AttentionScaling);
    }

    [Fact]
    public void A_call_whose_longest_position_passes_the_original_context_turns_every_position_with_the_long_factors()
    {
        var rope = new RotaryEmbedding(6, 10000.0, Scaling, 64);
        using var scope = torch.NewDisposeScope();
        var shortCall = torch.arange(0, 16, ScalarType.Int64).unsqueeze(0);   // positions 0..15: length 16
        var longCall = torch.arange(0, 17, ScalarType.Int64).unsqueeze(0);    // positions 0..16: length 17
        var (cosShort, _) = rope.Compute(shortCall, ScalarType.Float32);
        var (cosLong, _) = rope.Compute(longCall, ScalarType.Float32);
        double scale = Math.Sqrt(1 + Math.Log(4.0) / Math.Log(16));
        // Position 15, frequency 1 of 3: the short angle 15 / (1.5 · θ^(1/3)), the long one 15 / (7 · θ^(1/3)).
        double power = Math.Pow(10000.0, 2.0 / 6);
        Assert.Equal(scale * Math.Cos(15 / (1.5 * power)), cosShort[0, 15, 1].item<float>(), 1e-5);
        Assert.Equal(scale * Math.Cos(15 / (7.0 * power)), cosLong[0, 15, 1].item<float>(), 1e-5);
        Assert.True(Math.Abs(cosShort[0, 15, 1].item<float>() - cosLong[0, 15, 1].item<float>()) > 0.05);
        Assert.False(rope.UsesLongFactors(16));
        Assert.True(rope.UsesLongFactors(17));
    }
}
