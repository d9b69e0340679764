using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// The routed experts of one Qwen3-MoE layer: expert e is a SwiGLU MLP of moe_intermediate_size held as its own
/// gate_proj / up_proj / down_proj slots under "e" (the checkpoint's mlp.experts.e.gate_proj.weight, …), so loading,
/// NF4 quantization and merging treat each like any projection. transformers 5.x fuses them in memory
/// (gate_up_proj [experts, 2·inner, hidden], rows gate | up; down_proj [experts, hidden, inner]); peft adapts those
/// fused tensors, and so do the optional <see cref="ExpertLora"/> children named after them (gate_up_proj, down_proj).
/// </summary>
public sealed class MoeExperts : nn.Module
{
    readonly Mlp[] _experts;
    readonly long _inner;

    public MoeExperts(ModelConfig config, MoeConfig moe, ScalarType dtype, Device device) : base(nameof(MoeExperts))
    {
        _inner = moe.MoeIntermediateSize;
        _experts = Enumerable.Range(0, moe.NumExperts).Select(_ => new Mlp(config, dtype, device, moe.MoeIntermediateSize)).ToArray();
        for (int e = 0; e < _experts.Length; e++) register_module(e.ToString(System.Globalization.CultureInfo.InvariantCulture), _experts[e]);
    }

    public int Count => _experts.Length;

    public Mlp this[int expert] => _experts[expert];

    /// <summary>(in, out) of one expert's slice of the fused tensor peft adapts: gate_up_proj (hidden, 2·inner), down_proj (inner, hidden).</summary>
    public (long In, long Out) TensorShape(string parameterName) => parameterName switch
    {
        ExpertLora.GateUpProj => (_experts[0].gate_proj!.InFeatures, 2 * _inner),
        ExpertLora.DownProj => (_inner, _experts[0].down_proj.OutFeatures),
        _ => throw new ArgumentException($"'{parameterName}' is not an expert tensor ({string.Join(", ", ExpertLora.ParameterNames)})"),
    };

    /// <summary>peft's LoRA on the fused gate|up tensor of every expert, or null.</summary>
    public ExpertLora? GateUpLora { get; private set; }

    /// <summary>peft's LoRA on the down tensor of every expert, or null.</summary>
    public ExpertLora? DownLora { get; private set; }

    /// <summary>The adapted tensors in the order peft wraps them (gate_up_proj, then down_proj).</summary>
    public IEnumerable<ExpertLora> Adapters => new[] { GateUpLora, DownLora }.OfType<ExpertLora>();

    /// <summary>Attaches <paramref name="lora"/> to the tensor it names (<see cref="ExpertLora.ParameterName"/>).</summary>
    public void Attach(ExpertLora lora)
    {
        if (lora.Experts != Count) throw new ArgumentException($"the adapter covers {lora.Experts} experts; this layer has {Count}");
        switch (lora.ParameterName)
        {
            case ExpertLora.GateUpProj when GateUpLora is null: GateUpLora = lora; break;
            case ExpertLora.DownProj when DownLora is null: DownLora = lora; break;
            default: throw new InvalidOperationException($"'{lora.ParameterName}' is not an expert tensor, or already adapted");
        }
        register_module(lora.ParameterName, lora);
    }

    /// <summary>Expert <paramref name="expert"/> on its tokens <paramref name="x"/> [n, hidden]: down(silu(gate) · up), adapters included.</summary>
    public Tensor Forward(int expert, Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var mlp = _experts[expert];
        var gate = mlp.gate_proj!.forward(x);
        var up = mlp.up_proj!.forward(x);
        if (GateUpLora is { } gateUp)
        {
            var delta = gateUp.Delta(expert, x);
            gate = gate + delta.narrow(-1, 0, _inner);
            up = up + delta.narrow(-1, _inner, _inner);
        }
        var inner = nn.functional.silu(gate) * up;
        var y = mlp.down_proj.forward(inner);
        if (DownLora is { } down) y = y + down.Delta(expert, inner);
        return y.MoveToOuterDisposeScope();
    }
}
