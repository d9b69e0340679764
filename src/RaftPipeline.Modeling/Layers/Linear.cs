using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Layers;

/// <summary>The plain dense slot: y = x·Wᵀ + b, with <c>weight</c> [out, in] and optional <c>bias</c> [out], as nn.Linear.</summary>
public sealed class Linear : LinearSlot
{
    public Parameter weight;
    public Parameter? bias;

    public Linear(long inFeatures, long outFeatures, bool hasBias, ScalarType dtype, Device device) : base(nameof(Linear))
    {
        weight = ParameterFactory.Empty([outFeatures, inFeatures], dtype, device);
        bias = hasBias ? ParameterFactory.Empty([outFeatures], dtype, device) : null;
        RegisterComponents();
    }

    Linear(Parameter weight) : base(nameof(Linear))
    {
        this.weight = weight;
        RegisterComponents();
    }

    /// <summary>
    /// Bias-free projections that read the same input (q/k/v, gate/up), on CUDA made as consecutive row blocks of one
    /// [Σout, in] allocation: a LoRA group then runs them as one GEMM over that allocation as it is
    /// (<see cref="RowsSideBySide"/>) instead of gathering them into a copy, which left the separate originals behind
    /// in the caching allocator (the frozen weights' size again, reserved). On the CPU freed memory goes back to the
    /// system, and MKL's results depend on where a matrix starts, so each keeps its own allocation there and CPU
    /// numerics stay those of separate weights (<paramref name="oneAllocation"/> overrides; null: that choice).
    /// With a bias each gets its own; placeholders (<see cref="ParameterFactory.Placeholders"/>) are separate too, as they
    /// become views of another model's weights, side by side or not.
    /// </summary>
    public static Linear[] SideBySide(long inFeatures, long[] outFeatures, bool hasBias, ScalarType dtype, Device device, bool? oneAllocation = null)
    {
        if (hasBias || outFeatures.Length < 2 || !(oneAllocation ?? device.type == DeviceType.CUDA) || ParameterFactory.MakingPlaceholders)
            return outFeatures.Select(o => new Linear(inFeatures, o, hasBias, dtype, device)).ToArray();
        using var all = torch.empty([outFeatures.Sum(), inFeatures], dtype, device).DetachFromDisposeScope();
        var linears = new Linear[outFeatures.Length];
        long row = 0;
        for (int i = 0; i < linears.Length; i++)
        {
            var rows = all.narrow(0, row, outFeatures[i]).DetachFromDisposeScope();
            linears[i] = new Linear((Parameter)new Parameter(rows, requires_grad: true).DetachFromDisposeScope());
            row += outFeatures[i];
        }
        return linears;
    }

    /// <summary>
    /// When the weights of <paramref name="linears"/> are, in this order, consecutive row blocks of one allocation
    /// (as <see cref="SideBySide"/> makes them, and as long as nothing moved or replaced them), a new [Σout, in] view
    /// of those rows that the caller owns; otherwise null.
    /// </summary>
    public static Tensor? RowsSideBySide(IReadOnlyList<Linear> linears)
    {
        if (linears.Count < 2) return null;
        var first = linears[0].weight;
        long inFeatures = first.shape[1], elementSize = first.ElementSize, rows = 0;
        long start = Native.TensorMemory.Address(first).ToInt64();
        foreach (var l in linears)
        {
            var w = l.weight;
            if (w.dtype != first.dtype || w.device_type != first.device_type || w.device_index != first.device_index || w.shape[1] != inFeatures || !w.is_contiguous()) return null;
            if (Native.TensorMemory.Address(w).ToInt64() != start + rows * inFeatures * elementSize) return null;
            rows += w.shape[0];
        }
        // Adjacent addresses alone could be neighbouring allocations: a view over all the rows is only valid when they
        // lie in the first weight's own storage, which as_strided checks against the storage's size (it throws).
        try
        {
            using var noGrad = torch.no_grad();
            using var detached = first.detach();
            // Owned by the caller, whatever dispose scope is open (as the gathered copy a group makes otherwise).
            return detached.as_strided([rows, inFeatures], [inFeatures, 1], first.storage_offset()).DetachFromDisposeScope();
        }
        catch (Exception)
        {
            return null;
        }
    }

    public override long InFeatures => weight.shape[1];
    public override long OutFeatures => weight.shape[0];

    public override Tensor forward(Tensor input) => nn.functional.linear(input, weight, bias);

    /// <summary>
    /// Makes <c>weight</c> a view of <paramref name="storage"/> (same shape and values): a LoRA group keeps the weights of
    /// the projections that share an input side by side so that one GEMM computes them all. Frozen weights only.
    /// </summary>
    public void ShareWeightStorage(Tensor storage)
    {
        if (weight.requires_grad) throw new InvalidOperationException("only a frozen weight can move into shared storage");
        var old = weight;
        weight = new Parameter(storage, requires_grad: false);
        ConditionallyRegisterParameter(nameof(weight), weight);
        old.Dispose();
    }

    public override Tensor DenseWeight(ScalarType dtype)
    {
        using var noGrad = torch.no_grad();
        return weight.detach().to(dtype, copy: true);
    }
}
