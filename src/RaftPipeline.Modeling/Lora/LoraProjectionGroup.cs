using RaftPipeline.Modeling.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Lora;

/// <summary>
/// LoRA projections that read the same input (q/k/v, or gate/up, or one projection alone) run on compute copies of
/// their factors in the activation dtype: one GEMM for all their A factors stacked ([Σr, in]) and the scaling folded
/// into B, so no per-step casts of A and B exist (forward, or their backward) and addmm's backward multiplies nothing.
/// When the members' base weights can sit side by side (dense weights of the compute dtype, either made as row blocks
/// of one allocation (<see cref="Layers.Linear.SideBySide"/>) or moved into one stacked tensor the members' weights
/// become views of; or NF4 weights dequantized into one buffer), the whole group is three
/// GEMMs: x·Wᵀ for every base weight at once, x·Aᵀ, and one addmm with the block-diagonal s·B, giving the members'
/// outputs side by side ([.., Σout]). Otherwise each base runs alone and each member gets its own addmm. On the
/// Qwen3-4B shape, where the step waits on the host to launch kernels, that count is what matters.
/// The fp32 lora_A / lora_B parameters stay the masters that the optimizer steps and adapters are saved from;
/// <see cref="LoraComputeWeights"/> refreshes the copies from them and moves the copies' gradients back.
/// </summary>
public sealed class LoraProjectionGroup : IDisposable
{
    readonly LoraLinear[] _members;
    readonly long[] _ranks;
    readonly long[] _outs;
    readonly Tensor? _stackedWeight;         // dense bases: [Σout, in], the members' weights are views of it
    readonly Nf4Linear[]? _nf4Bases;         // NF4 bases: dequantized into one [Σout, in] buffer per use

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
        _outs = _members.Select(m => m.OutFeatures).ToArray();
        DType = dtype;
        var device = first.LoraA.device;
        StackedA = empty([_ranks.Sum(), first.InFeatures], dtype, device).requires_grad_(true).DetachFromDisposeScope();
        if (_members.Length > 1)
        {
            _stackedWeight = StackDenseWeights(dtype);
            if (_stackedWeight is null) _nf4Bases = Nf4Bases(dtype, device);
        }
        Stacked = _stackedWeight is not null || _nf4Bases is not null;
        if (Stacked)
        {
            // Block-diagonal: member i's s·B in rows of its outputs and columns of its rank; the zeros stay zero.
            BlockB = zeros([_outs.Sum(), _ranks.Sum()], dtype, device).requires_grad_(true).DetachFromDisposeScope();
            ScaledB = [];
        }
        else
            ScaledB = _members.Select(m => empty([m.OutFeatures, m.R], dtype, device).requires_grad_(true).DetachFromDisposeScope()).ToArray();
    }

    public IReadOnlyList<LoraLinear> Members => _members;
    public ScalarType DType { get; }

    /// <summary>Whether the members' outputs come out of one GEMM, side by side (<see cref="ForwardStacked"/>).</summary>
    public bool Stacked { get; }

    /// <summary>Every member's A in the compute dtype, stacked by rows in member order: [Σr, in], a leaf with grad.</summary>
    public Tensor StackedA { get; }

    /// <summary>scaling · B per member, [out, r] (groups that are not stacked), leaves with grad.</summary>
    public Tensor[] ScaledB { get; }

    /// <summary>Stacked groups: the block-diagonal [Σout, Σr] of every member's scaling · B, a leaf with grad.</summary>
    public Tensor? BlockB { get; }

    /// <summary>The copies, as the tensors a recomputed layer must return gradients for.</summary>
    public IEnumerable<Tensor> Copies => BlockB is null ? ScaledB.Prepend(StackedA) : [StackedA, BlockB];

    /// <summary>
    /// (master, copy, scale) for every factor: copy = scale · master. On the way back the copy's gradient times the
    /// same scale is the master's (d/dB = s · d/d(sB)); pass <paramref name="gradients"/> to get the copies' gradients
    /// in place of the copies (null where a copy got none). Copies may be blocks of a wider tensor (row-strided).
    /// </summary>
    public IEnumerable<(Tensor Master, Tensor? Copy, double Scale)> Pairs(bool gradients = false)
    {
        var a = gradients ? StackedA.grad : StackedA;
        var block = BlockB is null ? null : gradients ? BlockB.grad : BlockB;
        long rank = 0, row = 0;
        for (int i = 0; i < _members.Length; i++)
        {
            yield return (_members[i].LoraA, a?.narrow(0, rank, _ranks[i]), 1.0);
            var b = BlockB is null
                ? (gradients ? ScaledB[i].grad : ScaledB[i])
                : block?.narrow(0, row, _outs[i]).narrow(1, rank, _ranks[i]);
            yield return (_members[i].LoraB, b, _members[i].Scaling);
            rank += _ranks[i];
            row += _outs[i];
        }
    }

    /// <summary>Whether <paramref name="x"/> can take this path (the copies' dtype and device).</summary>
    public bool Accepts(Tensor x) => x.dtype == DType && x.device_type == StackedA.device_type;

    /// <summary>Every member's output for the shared input x [.., in], in member order.</summary>
    public Tensor[] Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        if (ForwardStacked(x) is { } stacked)
            return stacked.split(_outs, -1).Select(t => t.MoveToOuterDisposeScope()).ToArray();
        long[] shape = x.shape; // one native call per dimension: read once
        var xa = torch.mm(x.reshape(-1, shape[^1]), StackedA.t()); // [n, Σr]
        // Column blocks of xa; addmm reads each in place (row stride Σr), and split's backward is one cat.
        var parts = _members.Length == 1 ? [xa] : xa.split(_ranks, 1);
        var outputs = new Tensor[_members.Length];
        for (int i = 0; i < _members.Length; i++)
        {
            var baseOut = _members[i].BaseLayer.forward(x);
            var y = torch.addmm(baseOut.reshape(-1, _outs[i]), parts[i], ScaledB[i].t(), beta: 1, alpha: 1);
            outputs[i] = y.view([.. shape[..^1], _outs[i]]).MoveToOuterDisposeScope();
        }
        return outputs;
    }

    /// <summary>
    /// The members' outputs side by side, [.., Σout] in member order, from three GEMMs; null when the group is not
    /// stacked (or its dense weights no longer share the stacked storage: the model was moved or reloaded).
    /// </summary>
    public Tensor? ForwardStacked(Tensor x)
    {
        if (!Stacked || (_stackedWeight is not null && !StillStacked())) return null;
        using var scope = NewDisposeScope();
        long[] shape = x.shape;
        var x2 = x.reshape(-1, shape[^1]);
        Tensor baseOut;
        if (_stackedWeight is not null) baseOut = torch.mm(x2, _stackedWeight.t());
        else if (is_grad_enabled() && x2.requires_grad) baseOut = Nf4MatmulFunction.apply(x2, (Func<Tensor>)DequantizeStacked);
        else
        {
            var w = DequantizeStacked();
            baseOut = torch.mm(x2, w.t());
        }
        var xa = torch.mm(x2, StackedA.t());
        var y = torch.addmm(baseOut, xa, BlockB!.t(), beta: 1, alpha: 1);
        return y.view([.. shape[..^1], _outs.Sum()]).MoveToOuterDisposeScope();
    }

    /// <summary>Every NF4 base weight dequantized (bf16) into one [Σout, in] buffer, as one dense weight.</summary>
    Tensor DequantizeStacked()
    {
        using var scope = NewDisposeScope();
        var buffer = empty([_outs.Sum(), _members[0].InFeatures], DType, StackedA.device);
        long row = 0;
        for (int i = 0; i < _nf4Bases!.Length; i++)
        {
            if (!_nf4Bases[i].TryDequantizeInto(buffer.narrow(0, row, _outs[i])))
                throw new InvalidOperationException($"{_members[i].ModulePath}: the NF4 kernels became unavailable");
            row += _outs[i];
        }
        return buffer.MoveToOuterDisposeScope();
    }

    /// <summary>Moves dense base weights of the compute dtype (no bias) into one stacked tensor; null if any is not such.</summary>
    Tensor? StackDenseWeights(ScalarType dtype)
    {
        var bases = _members.Select(m => m.BaseLayer as Layers.Linear).ToArray();
        if (bases.Any(b => b is null || b.bias is not null || b.weight.dtype != dtype || b.weight.requires_grad)) return null;
        if (Layers.Linear.RowsSideBySide(bases.Select(b => b!).ToArray()) is { } sideBySide) return sideBySide; // built that way: nothing to copy
        using var scope = NewDisposeScope();
        Tensor stacked;
        using (no_grad()) stacked = torch.cat(bases.Select(b => (Tensor)b!.weight).ToList(), 0).contiguous().DetachFromDisposeScope();
        long row = 0;
        for (int i = 0; i < bases.Length; i++)
        {
            bases[i]!.ShareWeightStorage(stacked.narrow(0, row, _outs[i]).DetachFromDisposeScope());
            row += _outs[i];
        }
        return stacked;
    }

    /// <summary>Whether every dense member weight is still the view of the stacked tensor it was made (same addresses).</summary>
    bool StillStacked()
    {
        long baseAddress = Native.TensorMemory.Address(_stackedWeight!).ToInt64(), elementSize = _stackedWeight!.ElementSize;
        long row = 0;
        for (int i = 0; i < _members.Length; i++)
        {
            var w = ((Layers.Linear)_members[i].BaseLayer).weight;
            if (Native.TensorMemory.Address(w).ToInt64() != baseAddress + row * _members[i].InFeatures * elementSize) return false;
            row += _outs[i];
        }
        return true;
    }

    Nf4Linear[]? Nf4Bases(ScalarType dtype, Device device)
    {
        if (dtype != ScalarType.BFloat16 || device.type != DeviceType.CUDA || Native.Cuda.FusedKernels.For(device) is null) return null;
        var bases = _members.Select(m => m.BaseLayer as Nf4Linear).ToArray();
        return bases.All(b => b is not null && !b.HasBias && b.ComputeDType == dtype) ? bases.Cast<Nf4Linear>().ToArray() : null;
    }

    public void Dispose()
    {
        StackedA.Dispose();
        BlockB?.Dispose();
        foreach (var b in ScaledB) b.Dispose();
        _stackedWeight?.Dispose(); // our handle only: the members' weights are views that keep the storage
    }
}
