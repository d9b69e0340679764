using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Lora;

/// <summary>
/// LoRA projections that read the same input (q/k/v, or gate/up, or one projection alone) run on compute copies of
/// their factors in the activation dtype: one GEMM for all their A factors stacked ([Σr, in]), then per projection
/// one addmm that adds (x·Aᵢᵀ)·(s·Bᵢ)ᵀ to the base output. The same sum as each member's own 16-bit forward
/// (<see cref="LoraLinear"/>), with about half the kernels: no per-step casts of A and B (forward, and their
/// backward), one A GEMM instead of three, and the scaling folded into B, so addmm's backward multiplies nothing.
/// On the Qwen3-4B shape, where the step waits on the host to launch kernels, that count is what matters.
/// The fp32 lora_A / lora_B parameters stay the masters that the optimizer steps and adapters are saved from;
/// <see cref="LoraComputeWeights"/> refreshes the copies from them and moves the copies' gradients back.
/// </summary>
public sealed class LoraProjectionGroup : IDisposable
{
    readonly LoraLinear[] _members;
    readonly long[] _ranks;

    public LoraProjectionGroup(IReadOnlyList<LoraLinear> members, ScalarType dtype)
    {
        if (members.Count == 0) throw new ArgumentException("a LoRA group needs a member");
        var first = members[0];
        foreach (var m in members)
        {
            if (m.InFeatures != first.InFeatures)
                throw new ArgumentException($"{m.ModulePath} reads {m.InFeatures} features, {first.ModulePath} {first.InFeatures}: a group shares one input");
            if (m.HasDropout) throw new ArgumentException($"{m.ModulePath} has LoRA dropout: each member would need its own input");
        }
        _members = members.ToArray();
        _ranks = _members.Select(m => (long)m.R).ToArray();
        var device = first.LoraA.device;
        StackedA = empty([_ranks.Sum(), first.InFeatures], dtype, device).requires_grad_(true).DetachFromDisposeScope();
        ScaledB = _members.Select(m => empty([m.OutFeatures, m.R], dtype, device).requires_grad_(true).DetachFromDisposeScope()).ToArray();
        DType = dtype;
    }

    public IReadOnlyList<LoraLinear> Members => _members;
    public ScalarType DType { get; }

    /// <summary>Every member's A in the compute dtype, stacked by rows in member order: [Σr, in], a leaf with grad.</summary>
    public Tensor StackedA { get; }

    /// <summary>scaling · B per member in the compute dtype, [out, r], leaves with grad.</summary>
    public Tensor[] ScaledB { get; }

    /// <summary>The copies, as the tensors a recomputed layer must return gradients for.</summary>
    public IEnumerable<Tensor> Copies => ScaledB.Prepend(StackedA);

    /// <summary>
    /// (master, copy, scale) for every factor: copy = scale · master. On the way back the copy's gradient times the
    /// same scale is the master's (d/dB = s · d/d(sB)); pass <paramref name="gradients"/> to get the copies' gradients
    /// in place of the copies (null where a copy got none).
    /// </summary>
    public IEnumerable<(Tensor Master, Tensor? Copy, double Scale)> Pairs(bool gradients = false)
    {
        var a = gradients ? StackedA.grad : StackedA;
        long offset = 0;
        for (int i = 0; i < _members.Length; i++)
        {
            yield return (_members[i].LoraA, a?.narrow(0, offset, _ranks[i]), 1.0);
            offset += _ranks[i];
        }
        for (int i = 0; i < _members.Length; i++)
            yield return (_members[i].LoraB, gradients ? ScaledB[i].grad : ScaledB[i], _members[i].Scaling);
    }

    /// <summary>Whether <paramref name="x"/> can take this path (the copies' dtype and device).</summary>
    public bool Accepts(Tensor x) => x.dtype == DType && x.device_type == StackedA.device_type;

    /// <summary>Every member's output for the shared input x [.., in], in member order.</summary>
    public Tensor[] Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long[] shape = x.shape; // one native call per dimension: read once
        var xa = torch.mm(x.reshape(-1, shape[^1]), StackedA.t()); // [n, Σr]
        // Column blocks of xa; addmm reads each in place (row stride Σr), and split's backward is one cat.
        var parts = _members.Length == 1 ? [xa] : xa.split(_ranks, 1);
        var outputs = new Tensor[_members.Length];
        for (int i = 0; i < _members.Length; i++)
        {
            var baseOut = _members[i].BaseLayer.forward(x);
            long outFeatures = _members[i].OutFeatures;
            var y = torch.addmm(baseOut.reshape(-1, outFeatures), parts[i], ScaledB[i].t(), beta: 1, alpha: 1);
            long[] outShape = [.. shape[..^1], outFeatures];
            outputs[i] = y.view(outShape).MoveToOuterDisposeScope();
        }
        return outputs;
    }

    public void Dispose()
    {
        StackedA.Dispose();
        foreach (var b in ScaledB) b.Dispose();
    }
}
