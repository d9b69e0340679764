using RaftPipeline.Modeling.Native;
using RaftPipeline.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Tests.Optimizers;

public class OptimizerTests
{
    public OptimizerTests() => TorchRuntime.EnsureInitialized();

    static Tensor Param(long[] shape, int seed) =>
        randn(shape, generator: new Generator((ulong)seed)).requires_grad_(true);

    [Fact]
    public void AdamW_first_step_moves_each_value_by_lr_times_sign_of_its_gradient()
    {
        var p = tensor(new float[] { 1f, -2f, 3f }).requires_grad_(true);
        p.grad = tensor(new float[] { 0.5f, -4f, 1e-3f });
        var opt = new AdamW([("p", p)]);
        opt.Step(0.1);
        // m̂ = g, v̂ = g²: update = lr · g / (|g| + ε)
        var expected = new[] { 1f - 0.1f * 0.5f / (0.5f + 1e-8f), -2f + 0.1f, 3f - 0.1f * 1e-3f / (1e-3f + 1e-8f) };
        var got = p.data<float>().ToArray();
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], got[i], 6);
        Assert.Equal(1, opt.StepCount);
    }

    [Fact]
    public void AdamW_follows_TorchSharp_AdamW_with_decoupled_weight_decay()
    {
        var ours = Param([7, 5], 1);
        var theirs = new TorchSharp.Modules.Parameter(ours.detach().clone());
        var opt = new AdamW([("w", ours)], new AdamWOptions(WeightDecay: 0.01));
        var reference = optim.AdamW([theirs], lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01);
        for (int step = 0; step < 20; step++)
        {
            var g = randn([7, 5], generator: new Generator((ulong)(100 + step)));
            ours.grad = g.clone();
            theirs.grad = g.clone();
            opt.Step(1e-2);
            reference.step();
        }
        Assert.True(ours.allclose(theirs, rtol: 1e-5, atol: 1e-6),
            $"max |Δ| {(ours - theirs).abs().max().item<float>()}");
    }

    [Fact]
    public void Dynamic_maps_match_bitsandbytes_layout()
    {
        var signed = DynamicQuantizationMap.Create(signed: true);
        var unsigned = DynamicQuantizationMap.Create(signed: false);
        Assert.Equal(256, signed.Length);
        Assert.Equal(256, unsigned.Length);
        Assert.Equal(127, signed.Count(v => v < 0));
        Assert.Equal(1f, signed[^1]);
        Assert.Equal(1f, unsigned[^1]);
        Assert.Contains(0f, signed);
        Assert.All(unsigned, v => Assert.True(v >= 0));
        Assert.True(signed.SequenceEqual(signed.Order()), "signed map sorted");
        // Smallest non-zero magnitude: the first exponent (10^-6) has one fraction bin, midpoint of 0.1 and 1.
        Assert.Equal(0.55e-6f, signed.Where(v => v > 0).Min(), 9);
        Assert.Equal(-0.99296875f, signed[0], 6); // 10^0 × mean of the last two of linspace(0.1, 1, 65)
    }

    [Fact]
    public void Blockwise_quantization_round_trips_within_the_code_resolution()
    {
        var code = tensor(DynamicQuantizationMap.Create(signed: true));
        var values = randn([3, 300], generator: new Generator(5)) * 0.01; // 900 values: 3 full blocks + a tail of 132
        var codes = zeros([3, 300], dtype: ScalarType.Byte);
        var absmax = zeros(BlockwiseQuantizer.Blocks(900));
        BlockwiseQuantizer.Quantize(values, code, codes, absmax);
        Assert.Equal(4, absmax.shape[0]);
        Assert.Equal(values.reshape(-1)[768..].abs().max().item<float>(), absmax[3].item<float>());
        var back = BlockwiseQuantizer.Dequantize(codes, absmax, code, [3, 300]);
        // Dynamic code: relative error of large values is within half a bin (≤ 1/64 near 1); each block's
        // largest value is exact.
        var err = (back - values).abs() / absmax.repeat_interleave(256)[..900].reshape(3, 300);
        Assert.True(err.max().item<float>() < 0.02f, $"max relative error {err.max().item<float>()}");
    }

    [Fact]
    public void AdamW8bit_tracks_fp32_AdamW_and_stores_a_quarter_of_the_state()
    {
        // A least-squares problem; the 8-bit optimizer must reach the same neighbourhood as fp32 AdamW.
        var target = randn([64, 128], generator: new Generator(3));
        var a = zeros([64, 128]).requires_grad_(true);   // 8192 values: quantized states
        var bias = zeros([16]).requires_grad_(true);       // < 4096 values: fp32 states, as bitsandbytes
        var a32 = zeros([64, 128]).requires_grad_(true);
        var opt8 = new AdamW8bit([("a", a), ("bias", bias)]);
        var opt32 = new AdamW([("a", a32)]);
        for (int step = 0; step < 120; step++)
        {
            using var scope = NewDisposeScope();
            foreach (var (p, o) in new (Tensor, ITrainingOptimizer)[] { (a, opt8), (a32, opt32) })
            {
                p.grad = null;
                var loss = (p - target).pow(2).mean();
                loss.backward();
                o.Step(0.05);
            }
        }
        double d8 = (a - target).pow(2).mean().item<float>();
        double d32 = (a32 - target).pow(2).mean().item<float>();
        Assert.True(d8 < 0.05 && d32 < 0.05, $"8-bit {d8}, fp32 {d32}");
        Assert.True((a - a32).abs().max().item<float>() < 0.1f, "8-bit drifted from fp32");
        var state = opt8.StateTensors();
        Assert.Equal(ScalarType.Byte, state["a.state1"].dtype);
        Assert.Equal(ScalarType.Float32, state["bias.state1"].dtype);
        long expectedBytes = 2 * (8192 + 32 * 4) + 2 * 16 * 4;
        Assert.Equal(expectedBytes, opt8.StateBytes());
    }

    [Fact]
    public void Clipping_returns_the_pre_clip_norm_and_scales_like_torch()
    {
        var p1 = Param([3, 4], 1); var p2 = Param([5], 2);
        var q1 = new TorchSharp.Modules.Parameter(p1.detach().clone()); var q2 = new TorchSharp.Modules.Parameter(p2.detach().clone());
        p1.grad = full([3, 4], 2f); p2.grad = full([5], -1f);
        q1.grad = full([3, 4], 2f); q2.grad = full([5], -1f);
        double norm = GradientClipping.ClipByGlobalNorm([p1, p2], 1.0);
        double reference = nn.utils.clip_grad_norm_(new[] { q1, q2 }, 1.0);
        Assert.Equal(Math.Sqrt(12 * 4 + 5), norm, 5);
        Assert.Equal(reference, norm, 5);
        Assert.True(p1.grad.allclose(q1.grad!) && p2.grad.allclose(q2.grad!));
        Assert.Equal(1.0, linalg.vector_norm(cat([p1.grad.reshape(-1), p2.grad]), 2).item<float>(), 4);
    }
}
