using RaftPipeline.Modeling.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Lora;

/// <summary>
/// A LoRA adapter around any linear slot (peft lora.Linear): y = base(x) + scaling · B(A(dropout(x))), with A
/// [r, in] and B [out, r] kept in fp32 (peft upcasts adapter weights, autocast_adapter_dtype); with fp32
/// activations the input is cast to their dtype, with 16-bit activations the branch runs in that dtype (see
/// <see cref="LowPrecisionForward"/>). Field names mirror peft's module tree (base_layer, lora_A, lora_B) minus the adapter-name level.
/// </summary>
public sealed class LoraLinear : LinearSlot
{
    readonly LinearSlot base_layer;
    readonly TorchSharp.Modules.Linear lora_A;
    readonly TorchSharp.Modules.Linear lora_B;
    readonly nn.Module<Tensor, Tensor>? lora_dropout;

    public LoraLinear(LinearSlot baseLayer, LoraConfig config, string modulePath) : base("LoraLinear")
    {
        config.Validate();
        base_layer = baseLayer;
        R = config.R;
        Scaling = config.Scaling;
        ModulePath = modulePath;
        var device = BaseDevice(baseLayer);
        lora_A = nn.Linear(baseLayer.InFeatures, config.R, hasBias: false, device: device, dtype: ScalarType.Float32);
        lora_B = nn.Linear(config.R, baseLayer.OutFeatures, hasBias: false, device: device, dtype: ScalarType.Float32);
        if (config.Dropout > 0) lora_dropout = nn.Dropout(config.Dropout);
        InitializeFactors(lora_A.weight!, lora_B.weight!, config, modulePath);
        RegisterComponents();
    }

    public int R { get; }
    public double Scaling { get; }
    public string ModulePath { get; }
    public LinearSlot BaseLayer => base_layer;
    public bool HasDropout => lora_dropout is not null;
    public Parameter LoraA => lora_A.weight!;
    public Parameter LoraB => lora_B.weight!;

    public override long InFeatures => base_layer.InFeatures;
    public override long OutFeatures => base_layer.OutFeatures;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var result = base_layer.forward(input);
        var resultType = result.dtype;
        if (resultType != lora_A.weight!.dtype && IsLowPrecision(resultType))
            return LowPrecisionForward(input, result).MoveToOuterDisposeScope();
        var x = input.to(lora_A.weight!.dtype);
        if (lora_dropout is not null) x = lora_dropout.forward(x);
        var delta = lora_B.forward(lora_A.forward(x)) * Scaling;
        return (result + delta).to(resultType).MoveToOuterDisposeScope();
    }

    static bool IsLowPrecision(ScalarType t) => t is ScalarType.BFloat16 or ScalarType.Float16;

    /// <summary>
    /// The adapter branch in the activations' 16-bit dtype, as peft's layer computes it under the HF Trainer's bf16
    /// autocast (A and B cast down for the matmuls, gradients flow back to the fp32 weights through the cast). The
    /// scaling and the residual add ride in one GEMM epilogue (addmm: result + scaling · (x·Aᵀ)·Bᵀ), so no
    /// full-size fp32 delta, upcast input or separate multiply/add kernels exist: on the Qwen3-4B shape those
    /// elementwise passes over [tokens × out] cost more than the two rank-r matmuls themselves.
    /// </summary>
    Tensor LowPrecisionForward(Tensor input, Tensor result)
    {
        var dtype = result.dtype;
        var x = input.to(dtype);
        if (lora_dropout is not null) x = lora_dropout.forward(x);
        var xa = nn.functional.linear(x, lora_A.weight!.to(dtype));
        long[] shape = result.shape; // one native call per dimension: read once
        var flat = torch.addmm(result.reshape(-1, shape[^1]), xa.reshape(-1, R), lora_B.weight!.to(dtype).t(),
            beta: 1, alpha: (float)Scaling);
        return flat.view(shape);
    }

    /// <summary>scaling · B @ A in fp32, [out, in] (peft get_delta_weight).</summary>
    public Tensor DeltaWeight()
    {
        using var scope = NewDisposeScope();
        return (torch.matmul(lora_B.weight!.to(ScalarType.Float32), lora_A.weight!.to(ScalarType.Float32)) * Scaling)
            .MoveToOuterDisposeScope();
    }

    public override Tensor DenseWeight(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        return (base_layer.DenseWeight(ScalarType.Float32) + DeltaWeight()).to(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>peft's reset_lora_parameters for A [rows, in] and B [out, rows] (also the expert adapters' init).</summary>
    internal static void InitializeFactors(Tensor a, Tensor b, LoraConfig config, string modulePath)
    {
        using var noGrad = torch.no_grad();
        // A generator per module, seeded from the run seed and the module path, so the init of one module does not
        // depend on which other modules are targeted or in what order they are visited.
        var generator = new torch.Generator(MixSeed(config.Seed, modulePath));
        switch (config.Init)
        {
            case LoraInit.Kaiming:
                KaimingUniformSqrt5(a, generator);
                b.zero_();
                break;
            case LoraInit.Gaussian:
                a.copy_(torch.randn(a.shape, generator: generator) / config.R);
                b.zero_();
                break;
            case LoraInit.Random:
                KaimingUniformSqrt5(a, generator);
                KaimingUniformSqrt5(b, generator);
                break;
        }
    }

    /// <summary>
    /// nn.init.kaiming_uniform_(w, a=sqrt(5)): gain sqrt(2 / (1 + 5)), std = gain / sqrt(fan_in), bound = sqrt(3)·std
    /// = 1 / sqrt(fan_in), so U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = w.shape[1].
    /// </summary>
    static void KaimingUniformSqrt5(Tensor w, torch.Generator generator)
    {
        double bound = 1.0 / Math.Sqrt(w.shape[1]);
        w.copy_(torch.rand(w.shape, generator: generator) * (2 * bound) - bound);
    }

    static ulong MixSeed(ulong seed, string path)
    {
        // FNV-1a over the path, mixed with the seed: stable across runs and platforms (string.GetHashCode is not).
        ulong h = 14695981039346656037UL ^ seed;
        foreach (var ch in path)
        {
            h ^= ch;
            h *= 1099511628211UL;
        }
        return h;
    }

    static Device BaseDevice(LinearSlot slot)
    {
        foreach (var p in slot.parameters()) return p.device;
        foreach (var b in slot.buffers()) return b.device;
        return torch.CPU;
    }
}
