using RaftPipeline.Modeling.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// RoPE as transformers computes it: inv_freq per RoPE type (<see cref="RopeFrequencies"/>, fp32), angles = position ×
/// inv_freq in fp32, emb = cat(angles, angles), cos/sin times the type's attention scale, then cast to the activations'
/// dtype. Rotation uses the rotate_half convention (first half / second half of the rotated dimensions, not
/// interleaved pairs); with partial rotary only the first rotary_dim dimensions of a head turn (Phi-3).
/// Not a module: inv_freq is derived from the config and is no checkpoint key.
/// </summary>
public sealed class RotaryEmbedding
{
    readonly Tensor _invFreqCpu;
    readonly Dictionary<string, Tensor> _byDevice = new();
    readonly int _dim;
    readonly double _theta;
    readonly RopeScaling? _scaling;
    readonly int _maxPositionEmbeddings;
    readonly double _attentionScaling;

    /// <summary>The default RoPE over <paramref name="dim"/> dimensions.</summary>
    public RotaryEmbedding(int dim, double theta) : this(dim, theta, null, 0) { }

    /// <param name="dim">the rotated dimensions of a head (head_dim · partial_rotary_factor)</param>
    public RotaryEmbedding(int dim, double theta, RopeScaling? scaling, int maxPositionEmbeddings)
    {
        _dim = dim;
        _theta = theta;
        _scaling = scaling;
        _maxPositionEmbeddings = maxPositionEmbeddings;
        var (inv, attention) = RopeFrequencies.Compute(dim, theta, scaling, maxPositionEmbeddings);
        _invFreqCpu = inv.DetachFromDisposeScope();
        _attentionScaling = attention;
    }

    /// <summary>The model's RoPE: its rotary dims, θ, type and context length.</summary>
    public static RotaryEmbedding For(ModelConfig config, double? theta = null, RopeScaling? scaling = null) =>
        new(config.RotaryDim, theta ?? config.RopeTheta, scaling ?? config.RopeScaling, config.MaxPositionEmbeddings);

    /// <summary>inv_freq on the CPU, fp32, [dim / 2] (for dynamic RoPE: at the original context length).</summary>
    public Tensor InvFreq => _invFreqCpu;

    /// <summary>cos and sin for <paramref name="positionIds"/> [B, T]: each [B, T, dim] in <paramref name="dtype"/>.</summary>
    public (Tensor Cos, Tensor Sin) Compute(Tensor positionIds, ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var invFreq = InvFreqFor(positionIds);
        // [B, T, 1] × [1, 1, d/2] → [B, T, d/2]: one fp32 product per entry, as transformers' matmul with K = 1.
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * invFreq.view(1, 1, -1);
        var emb = torch.cat([freqs, freqs], -1);
        var cos = emb.cos();
        var sin = emb.sin();
        if (_attentionScaling != 1.0)
        {
            cos = cos * _attentionScaling;
            sin = sin * _attentionScaling;
        }
        if (dtype != ScalarType.Float32) (cos, sin) = (cos.to(dtype), sin.to(dtype)); // fp32 already: no cast
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Dynamic NTK grows θ with the longest position of the call once it passes the context length; longrope turns every
    /// position of a call with its long factors once the call's longest position passes the original context (one host
    /// read of the positions each); the other types use the fixed frequencies.
    /// </summary>
    Tensor InvFreqFor(Tensor positionIds)
    {
        if (_scaling?.Type == "dynamic")
        {
            long seqLen = positionIds.max().item<long>() + 1;
            if (seqLen > _maxPositionEmbeddings)
                return RopeFrequencies.Compute(_dim, _theta, _scaling, _maxPositionEmbeddings, seqLen).InvFreq.to(positionIds.device);
        }
        if (_scaling?.Type == "longrope" && UsesLongFactors(positionIds.max().item<long>() + 1))
            return InvFreqOn(positionIds.device, "long", () => RopeFrequencies.Compute(_dim, _theta, _scaling, _maxPositionEmbeddings,
                _scaling.OriginalMaxPositionEmbeddings!.Value + 1L).InvFreq);
        return InvFreqOn(positionIds.device, "", () => _invFreqCpu);
    }

    /// <summary>
    /// longrope: whether a sequence of <paramref name="length"/> tokens turns with the long factors (every position of
    /// it, cached keys included: generation re-encodes the sequence when it crosses, see BatchDecode).
    /// </summary>
    public bool UsesLongFactors(long length) =>
        _scaling?.Type == "longrope" && length > _scaling.OriginalMaxPositionEmbeddings!.Value;

    Tensor InvFreqOn(Device device, string variant, Func<Tensor> cpu)
    {
        var key = variant + device;
        lock (_byDevice)
        {
            if (!_byDevice.TryGetValue(key, out var t))
            {
                using var scope = torch.NewDisposeScope();
                t = cpu().to(device).DetachFromDisposeScope();
                _byDevice[key] = t;
            }
            return t;
        }
    }

    /// <summary>
    /// RoPE on <paramref name="bthd"/> in the projection's layout [B, T, heads, d], returned as [B, heads, T, d]: a fused
    /// kernel where <see cref="FusedPaths"/> has one, else <see cref="Apply"/> on the transposed view (same values).
    /// </summary>
    public static Tensor ApplyToProjection(Tensor bthd, Tensor cos, Tensor sin) =>
        FusedPaths.RotateProjection(bthd, cos, sin) ?? Apply(bthd.transpose(1, 2), cos, sin);

    /// <summary>
    /// x·cos + rotate_half(x)·sin, with x [B, heads, T, d] and cos/sin [B, T, r]: r = d rotates the whole head; r &lt; d
    /// (partial rotary) rotates the first r dimensions and passes the rest through.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = torch.NewDisposeScope();
        long r = cos.shape[^1];
        if (r < x.shape[^1])
        {
            var turned = Apply(x.narrow(-1, 0, r), cos, sin);
            return torch.cat([turned, x.narrow(-1, r, x.shape[^1] - r)], -1).MoveToOuterDisposeScope();
        }
        var c = cos.unsqueeze(1);
        var s = sin.unsqueeze(1);
        long half = x.shape[^1] / 2;
        // rotate_half(x) = cat(−x2, x1); the negation and the product with sin act in place on the fresh concatenation
        // (the same values as transformers' ops, two tensors fewer per call: this runs for q and k of every layer).
        var rotated = torch.cat([x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
        rotated.narrow(-1, 0, half).neg_();
        var y = x * c;
        y.add_(rotated.mul_(s));
        return y.MoveToOuterDisposeScope();
    }
}
