using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// Default RoPE as transformers computes it: inv_freq = 1 / θ^(arange(0, d, 2) / d) in fp32, angles = position ×
/// inv_freq in fp32, emb = cat(angles, angles), then cos/sin cast to the activations' dtype. Rotation uses the
/// rotate_half convention (first half / second half of each head, not interleaved pairs).
/// Not a module: inv_freq is derived from the config and is no checkpoint key.
/// </summary>
public sealed class RotaryEmbedding
{
    readonly Tensor _invFreqCpu;
    readonly Dictionary<string, Tensor> _byDevice = new();

    public RotaryEmbedding(int headDim, double theta)
    {
        using var scope = torch.NewDisposeScope();
        // The same fp32 ops transformers runs: int64 arange → fp32, divide by dim, θ ** that, reciprocal.
        var exponent = torch.arange(0, headDim, 2, ScalarType.Int64).to(ScalarType.Float32) / headDim;
        var basis = torch.full(exponent.shape, theta, ScalarType.Float32);
        _invFreqCpu = (1.0 / basis.pow(exponent)).DetachFromDisposeScope();
    }

    /// <summary>inv_freq on the CPU, fp32, [headDim / 2].</summary>
    public Tensor InvFreq => _invFreqCpu;

    /// <summary>cos and sin for <paramref name="positionIds"/> [B, T]: each [B, T, headDim] in <paramref name="dtype"/>.</summary>
    public (Tensor Cos, Tensor Sin) Compute(Tensor positionIds, ScalarType dtype)
    {
        var invFreq = InvFreqOn(positionIds.device);
        using var scope = torch.NewDisposeScope();
        // [B, T, 1] × [1, 1, d/2] → [B, T, d/2]: one fp32 product per entry, as transformers' matmul with K = 1.
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * invFreq.view(1, 1, -1);
        var emb = torch.cat([freqs, freqs], -1);
        var cos = emb.cos().to(dtype).MoveToOuterDisposeScope();
        var sin = emb.sin().to(dtype).MoveToOuterDisposeScope();
        return (cos, sin);
    }

    Tensor InvFreqOn(Device device)
    {
        var key = device.ToString();
        lock (_byDevice)
        {
            if (!_byDevice.TryGetValue(key, out var t))
            {
                t = _invFreqCpu.to(device).DetachFromDisposeScope();
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

    /// <summary>x·cos + rotate_half(x)·sin, with x [B, heads, T, d] and cos/sin [B, T, d].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = torch.NewDisposeScope();
        var c = cos.unsqueeze(1);
        var s = sin.unsqueeze(1);
        long half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = torch.cat([-x2, x1], -1);
        return (x * c + rotated * s).MoveToOuterDisposeScope();
    }
}
