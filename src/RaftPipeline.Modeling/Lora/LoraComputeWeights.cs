using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Native.Cuda;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Lora;

/// <summary>
/// Training with LoRA compute copies (<see cref="LoraProjectionGroup"/>): per decoder block, the LoRA slots that
/// read the block input form one group and the output slot another. While attached, the blocks' forward runs through
/// the groups; <see cref="Refresh"/> writes the copies from the fp32 masters (call before each forward) and
/// <see cref="CollectGradients"/> moves the copies' gradients onto the masters' <c>.grad</c> (call after each
/// backward), so the optimizer, clipping, gradient all-reduce and adapter saving see the masters exactly as before.
/// On CUDA both directions are one multi-tensor kernel each; elsewhere (tests) plain libtorch ops do the same.
/// </summary>
public sealed class LoraComputeWeights : IDisposable
{
    readonly List<(SlotHostModule Host, LoraProjectionGroup? Input, LoraProjectionGroup? Output)> _hosts = [];
    readonly List<LoraProjectionGroup> _groups = [];
    readonly Dictionary<DecoderLayer, Tensor[]> _layerTrainables = [];
    readonly Dictionary<IntPtr, Tensor> _gradBuffers = [];
    readonly FusedKernels? _kernels;
    FusedKernels.ScaledCopyTable? _refreshTable;
    long[] _refreshKey = [];

    LoraComputeWeights(CausalLM model, ScalarType dtype, FusedKernels? kernels)
    {
        _kernels = kernels;
        foreach (var layer in model.model.layers.Cast<DecoderLayer>())
        {
            var masters = new HashSet<IntPtr>();
            var copies = new List<Tensor>();
            foreach (var host in layer.SlotHosts)
            {
                var input = Group(host, host.InputSlotNames, dtype);
                var output = Group(host, [host.OutputSlotName], dtype);
                _hosts.Add((host, input, output));
                foreach (var g in new[] { input, output })
                {
                    if (g is null) continue;
                    _groups.Add(g);
                    copies.AddRange(g.Copies);
                    foreach (var m in g.Members) { masters.Add(m.LoraA.Handle); masters.Add(m.LoraB.Handle); }
                }
            }
            // A recomputed layer returns gradients for what its forward differentiates: the copies, and any other
            // trainable parameter of the layer (e.g. an unfrozen norm), not the masters the copies stand for.
            _layerTrainables[layer] = layer.parameters().Where(p => p.requires_grad && !masters.Contains(p.Handle))
                .Cast<Tensor>().Concat(copies).ToArray();
        }
        foreach (var g in _groups)
            foreach (var (master, _, _) in g.Pairs())
                _gradBuffers[master.Handle] = zeros_like(master).DetachFromDisposeScope();
    }

    /// <summary>
    /// Compute copies for <paramref name="model"/> in <paramref name="dtype"/>, or null when no slot qualifies (no LoRA
    /// slot without dropout). <paramref name="useKernels"/>: the multi-tensor kernels on CUDA, else plain ops.
    /// </summary>
    public static LoraComputeWeights? TryCreate(CausalLM model, ScalarType dtype, bool useKernels)
    {
        FusedKernels? kernels = null;
        if (useKernels)
        {
            var device = model.OutputWeight.device;
            kernels = FusedKernels.For(device);
            if (kernels is null || dtype != ScalarType.BFloat16) return null;
        }
        var weights = new LoraComputeWeights(model, dtype, kernels);
        if (weights._groups.Count > 0) return weights;
        weights.Dispose();
        return null;
    }

    /// <summary>Whether the blocks currently run through the copies.</summary>
    public bool Attached { get; private set; }

    /// <summary>The tensors a (recomputed) layer's forward takes gradients for while attached.</summary>
    public IReadOnlyList<Tensor> TrainableTensorsOf(DecoderLayer layer) => _layerTrainables[layer];

    /// <summary>Routes the blocks' forward through the copies (refreshing them), or back to the slots' own forward.</summary>
    public void Attach(bool attach)
    {
        foreach (var (host, input, output) in _hosts)
        {
            host.InputLora = attach ? input : null;
            host.OutputLora = attach ? output : null;
        }
        Attached = attach;
        if (attach) Refresh();
    }

    /// <summary>copy ← scale · master for every factor (the masters changed: an optimizer step, a load).</summary>
    public void Refresh()
    {
        using var scope = NewDisposeScope();
        if (_kernels is not null)
        {
            // The copies are ours and stay put; the table is rebuilt only if a master's storage moved.
            var key = _groups.SelectMany(g => g.Members).SelectMany(m => new[] { m.LoraA, m.LoraB })
                .Select(FusedKernels.KeyAddress).ToArray();
            if (_refreshTable is null || !_refreshKey.AsSpan().SequenceEqual(key))
            {
                _refreshTable?.Dispose();
                _refreshTable = new FusedKernels.ScaledCopyTable(_groups.SelectMany(g => g.Pairs()).Select(p => (p.Master, p.Copy!, p.Scale)).ToList());
                _refreshKey = key;
            }
            _kernels.CastScaleFp32ToBf16(_refreshTable);
            return;
        }
        var pairs = _groups.SelectMany(g => g.Pairs()).Select(p => (p.Master, p.Copy!, p.Scale)).ToList();
        using var noGrad = no_grad();
        foreach (var (master, copy, scale) in pairs) copy.copy_(master * scale);
    }

    /// <summary>
    /// master.grad (+)= scale · copy.grad for every factor, then the copies' gradients are dropped. Adds when the
    /// masters already hold gradients (accumulation over micro-batches), else sets them, as autograd itself would.
    /// </summary>
    public void CollectGradients()
    {
        using var scope = NewDisposeScope();
        var pairs = new List<(Tensor Source, Tensor Destination, double Scale)>();
        var masters = new List<Tensor>();
        bool accumulate = false;
        bool first = true;
        foreach (var g in _groups)
            foreach (var (master, grad, scale) in g.Pairs(gradients: true))
            {
                if (first) { accumulate = master.grad is not null; first = false; }
                var buffer = _gradBuffers[master.Handle];
                if (grad is null) { if (!accumulate) buffer.zero_(); }  // no gradient reached it: zero
                else pairs.Add((grad, buffer, scale));
                masters.Add(master);
            }
        if (pairs.Count > 0)
        {
            if (_kernels is not null)
            {
                using var table = new FusedKernels.ScaledCopyTable(pairs);
                _kernels.AccumulateScaledBf16ToFp32(table, accumulate);
            }
            else
            {
                using var noGrad = no_grad();
                foreach (var (grad, buffer, scale) in pairs)
                    if (accumulate) buffer.add_(grad.to(ScalarType.Float32) * scale);
                    else buffer.copy_(grad.to(ScalarType.Float32) * scale);
            }
        }
        if (!accumulate)
            foreach (var m in masters) m.grad = _gradBuffers[m.Handle];
        foreach (var g in _groups)
            foreach (var copy in g.Copies) copy.grad = null;
    }

    static LoraProjectionGroup? Group(SlotHostModule host, IEnumerable<string> names, ScalarType dtype)
    {
        var members = names.Select(host.GetSlot).OfType<LoraLinear>().Where(l => !l.HasDropout).ToList();
        return members.Count == 0 ? null : new LoraProjectionGroup(members, dtype);
    }

    public void Dispose()
    {
        if (Attached) Attach(false);
        foreach (var g in _groups) g.Dispose();
        foreach (var b in _gradBuffers.Values) b.Dispose();
        _refreshTable?.Dispose();
    }
}
