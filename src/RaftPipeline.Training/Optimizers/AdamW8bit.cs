using RaftPipeline.Modeling.Native.Cuda;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Optimizers;

/// <summary>
/// 8-bit AdamW as bitsandbytes' <c>AdamW8bit</c> / <c>PagedAdamW8bit</c> (<c>optim_bits=8</c>): both moments are
/// stored as uint8 codes with an fp32 absmax per block of 256 values — the first moment against the signed
/// dynamic map, the second against the unsigned one. Each step dequantizes, applies the Adam update in fp32, and
/// re-quantizes (bitsandbytes' <c>optimizer_update_8bit_blockwise</c>, CPU backend math):
/// m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p·(1 − lr·wd);
/// p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε).
/// Parameters with fewer than <see cref="MinEightBitSize"/> values keep fp32 moments (bitsandbytes' min_8bit_size).
///
/// "Paged" in bitsandbytes: <c>is_paged=True</c> allocates the state buffers of large parameters (≥ 1e5 values)
/// with CUDA unified memory (cudaMallocManaged), so under GPU memory pressure the driver pages optimizer state out
/// to host RAM and back on demand instead of failing with out-of-memory; on CPU it falls back to plain buffers.
/// Here no unified memory is used: states live on the parameter's device in 8 bits (¼ of fp32 AdamW's 8 bytes per
/// value, plus 4 bytes per 256 values of absmax) — the memory saving that matters for LoRA; paging is not
/// implemented, so "paged_adamw_8bit" maps to this optimizer.
/// </summary>
public sealed class AdamW8bit : ITrainingOptimizer
{
    public const int MinEightBitSize = 4096;

    readonly AdamWOptions _o;
    readonly List<(string Name, Tensor Parameter)> _params;
    readonly Tensor _signedMap;
    readonly Tensor _unsignedMap;
    readonly Slot[] _slots;

    sealed class Slot
    {
        public Tensor? State1, State2;          // uint8 codes, or fp32 moments for small parameters
        public Tensor? Absmax1, Absmax2;        // fp32 [blocks]
        public bool Quantized;
    }

    public AdamW8bit(IEnumerable<(string Name, Tensor Parameter)> parameters, AdamWOptions? options = null)
    {
        _o = options ?? new AdamWOptions();
        _params = parameters.ToList();
        var device = _params.Count > 0 ? _params[0].Parameter.device : CPU;
        _signedMap = tensor(DynamicQuantizationMap.Create(signed: true), device: device).DetachFromDisposeScope();
        _unsignedMap = tensor(DynamicQuantizationMap.Create(signed: false), device: device).DetachFromDisposeScope();
        _slots = _params.Select(p => NewSlot(p.Parameter)).ToArray();
    }

    static Slot NewSlot(Tensor p)
    {
        if (p.numel() < MinEightBitSize)
            return new Slot
            {
                State1 = zeros(p.shape, dtype: ScalarType.Float32, device: p.device).DetachFromDisposeScope(),
                State2 = zeros(p.shape, dtype: ScalarType.Float32, device: p.device).DetachFromDisposeScope(),
            };
        long blocks = BlockwiseQuantizer.Blocks(p.numel());
        // Code index of 0.0 is not 0: zero moments are encoded by quantizing zeros once.
        var slot = new Slot
        {
            Quantized = true,
            State1 = zeros(p.shape, dtype: ScalarType.Byte, device: p.device).DetachFromDisposeScope(),
            State2 = zeros(p.shape, dtype: ScalarType.Byte, device: p.device).DetachFromDisposeScope(),
            Absmax1 = zeros(blocks, dtype: ScalarType.Float32, device: p.device).DetachFromDisposeScope(),
            Absmax2 = zeros(blocks, dtype: ScalarType.Float32, device: p.device).DetachFromDisposeScope(),
        };
        return slot;
    }

    public IReadOnlyList<(string Name, Tensor Parameter)> Parameters => _params;
    public long StepCount { get; private set; }

    public void Step(double lr)
    {
        StepCount++;
        double bc1 = 1 - Math.Pow(_o.Beta1, StepCount);
        double bc2Sqrt = Math.Sqrt(1 - Math.Pow(_o.Beta2, StepCount));
        using var noGrad = no_grad();
        var fused = FusedStep(lr, bc1, bc2Sqrt);
        for (int i = 0; i < _params.Count; i++)
        {
            if (fused.Contains(i)) continue;
            using var scope = NewDisposeScope();
            var p = _params[i].Parameter;
            var g = p.grad;
            if (g is null || g.IsInvalid) continue;
            var s = _slots[i];
            var grad = g.to(ScalarType.Float32);
            Tensor m, v;
            if (s.Quantized)
            {
                // absmax 0 (fresh state) dequantizes every code to 0, whatever the code's value.
                m = BlockwiseQuantizer.Dequantize(s.State1!, s.Absmax1!, _signedMap, p.shape);
                v = BlockwiseQuantizer.Dequantize(s.State2!, s.Absmax2!, _unsignedMap, p.shape);
            }
            else
            {
                m = s.State1!;
                v = s.State2!;
            }
            m.mul_(_o.Beta1).add_(grad, 1 - _o.Beta1);
            v.mul_(_o.Beta2).addcmul_(grad, grad, 1 - _o.Beta2);
            var denom = (v.sqrt() / bc2Sqrt).add_(_o.Epsilon);
            var p32 = p.to(ScalarType.Float32);
            if (_o.WeightDecay > 0) p32.mul_(1 - lr * _o.WeightDecay);
            p32.addcdiv_(m, denom, -lr / bc1);
            p.copy_(p32);
            if (s.Quantized)
            {
                BlockwiseQuantizer.Quantize(m, _signedMap, s.State1!, s.Absmax1!);
                BlockwiseQuantizer.Quantize(v, _unsignedMap, s.State2!, s.Absmax2!);
            }
        }
    }

    Tensor? _signedBounds, _unsignedBounds;

    /// <summary>
    /// On CUDA: every 8-bit slot with fp32 parameter and gradient in one launch (one CUDA block per state block);
    /// returns the indices it updated, the rest (small fp32-state parameters, other dtypes) take the loop.
    /// </summary>
    HashSet<int> FusedStep(double lr, double bc1, double bc2Sqrt)
    {
        using var scope = NewDisposeScope(); // the gradients' wrappers, not their storage
        var done = new HashSet<int>();
        var items = new List<Tensor[]>();
        var indices = new List<int>();
        for (int i = 0; i < _params.Count; i++)
        {
            var s = _slots[i];
            var g = _params[i].Parameter.grad;
            if (!s.Quantized || g is null || g.IsInvalid) continue;
            items.Add([_params[i].Parameter, g, s.State1!, s.State2!, s.Absmax1!, s.Absmax2!]);
            indices.Add(i);
        }
        if (items.Count == 0) return done;
        var fp32 = items.SelectMany(t => new[] { t[0], t[1], t[4], t[5] }).ToList();
        if (FusedKernels.ForFp32Tensors(fp32, "adamw8bit") is not { } kernels) return done;
        // The midpoints the unfused quantizer bucketizes on, computed by the same libtorch ops once.
        _signedBounds ??= ((_signedMap[..^1] + _signedMap[1..]) / 2).contiguous().DetachFromDisposeScope();
        _unsignedBounds ??= ((_unsignedMap[..^1] + _unsignedMap[1..]) / 2).contiguous().DetachFromDisposeScope();
        double decay = _o.WeightDecay > 0 ? 1 - lr * _o.WeightDecay : 1;
        kernels.AdamW8bitBlockwise(items, _signedMap, _unsignedMap, _signedBounds, _unsignedBounds, decay, _o.Beta1,
            _o.Beta2, bc2Sqrt, _o.Epsilon, lr / bc1);
        done.UnionWith(indices);
        return done;
    }

    /// <summary>Bytes held by the moments (codes + absmax, or fp32 moments for small parameters).</summary>
    public long StateBytes() => _slots.Sum(s =>
        s.State1!.numel() * s.State1.ElementSize + s.State2!.numel() * s.State2.ElementSize +
        (s.Absmax1?.numel() ?? 0) * 4 + (s.Absmax2?.numel() ?? 0) * 4);

    public IReadOnlyDictionary<string, Tensor> StateTensors()
    {
        var d = new Dictionary<string, Tensor>();
        for (int i = 0; i < _params.Count; i++)
        {
            string n = _params[i].Name;
            var s = _slots[i];
            d[$"{n}.state1"] = s.State1!;
            d[$"{n}.state2"] = s.State2!;
            if (s.Quantized)
            {
                d[$"{n}.absmax1"] = s.Absmax1!;
                d[$"{n}.absmax2"] = s.Absmax2!;
            }
        }
        return d;
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> state, long stepCount)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < _params.Count; i++)
        {
            string n = _params[i].Name;
            var s = _slots[i];
            s.State1!.copy_(OptimizerState.Require(state, $"{n}.state1", s.State1));
            s.State2!.copy_(OptimizerState.Require(state, $"{n}.state2", s.State2));
            if (s.Quantized)
            {
                s.Absmax1!.copy_(OptimizerState.Require(state, $"{n}.absmax1", s.Absmax1));
                s.Absmax2!.copy_(OptimizerState.Require(state, $"{n}.absmax2", s.Absmax2));
            }
        }
        StepCount = stepCount;
    }
}
