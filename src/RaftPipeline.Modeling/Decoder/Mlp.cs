using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// Gated feed-forward: down_proj(act(gate_proj(x)) · up_proj(x)), act = silu (SwiGLU) or, for Gemma, GELU with the
/// tanh approximation (gelu_pytorch_tanh). Phi-3 holds gate and up as one fused gate_up_proj (rows gate | up).
/// </summary>
public sealed class Mlp : SlotHostModule
{
    public LinearSlot? gate_proj;
    public LinearSlot? up_proj;
    /// <summary>Phi-3's fused projection, rows gate | up (in place of gate_proj, up_proj).</summary>
    public LinearSlot? gate_up_proj;
    public LinearSlot down_proj;

    readonly bool _gelu;
    readonly string[] _slots;
    readonly string[] _inputSlots;

    public Mlp(ModelConfig config, ScalarType dtype, Device device, long? intermediateSize = null) : base(nameof(Mlp))
    {
        long inner = intermediateSize ?? config.IntermediateSize;
        if (config.Descriptor.FusedProjections)
        {
            gate_up_proj = new Linear(config.HiddenSize, 2 * inner, config.MlpBias, dtype, device);
            _inputSlots = ["gate_up_proj"];
        }
        else
        {
            var gateUp = Linear.SideBySide(config.HiddenSize, [inner, inner], config.MlpBias, dtype, device);
            (gate_proj, up_proj) = (gateUp[0], gateUp[1]);
            _inputSlots = ["gate_proj", "up_proj"];
        }
        down_proj = new Linear(inner, config.HiddenSize, config.MlpBias, dtype, device);
        _slots = [.. _inputSlots, "down_proj"];
        _gelu = config.HiddenAct == "gelu_pytorch_tanh";
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var gated = (_gelu ? null : FusedPaths.SwiGluStacked(InputLora, x)) ?? Gated(x);
        return Project([down_proj], OutputLora, gated)[0].MoveToOuterDisposeScope();
    }

    Tensor Gated(Tensor x)
    {
        Tensor gate, up;
        if (gate_up_proj is not null)
        {
            var both = Project([gate_up_proj], InputLora, x)[0];
            if (!_gelu && FusedPaths.SwiGluOfStacked(both) is { } fused) return fused;
            long inner = both.shape[^1] / 2;
            (gate, up) = (both.narrow(-1, 0, inner), both.narrow(-1, inner, inner));
        }
        else
        {
            var gateUp = Project([gate_proj!, up_proj!], InputLora, x);
            (gate, up) = (gateUp[0], gateUp[1]);
        }
        if (_gelu) return nn.functional.gelu(gate, TorchSharp.Modules.GELU.Approximate.tanh) * up;
        return FusedPaths.SwiGlu(gate, up) ?? nn.functional.silu(gate) * up;
    }

    public override IReadOnlyList<string> SlotNames => _slots;
    public override IReadOnlyList<string> InputSlotNames => _inputSlots;
    public override string OutputSlotName => "down_proj";

    public override LinearSlot GetSlot(string name) => name switch
    {
        "gate_proj" when gate_proj is not null => gate_proj,
        "up_proj" when up_proj is not null => up_proj,
        "gate_up_proj" when gate_up_proj is not null => gate_up_proj,
        "down_proj" => down_proj,
        _ => throw UnknownSlot(name),
    };

    protected override void SetSlotField(string name, LinearSlot slot)
    {
        switch (name)
        {
            case "gate_proj": gate_proj = slot; break;
            case "up_proj": up_proj = slot; break;
            case "gate_up_proj": gate_up_proj = slot; break;
            case "down_proj": down_proj = slot; break;
            default: throw UnknownSlot(name);
        }
    }
}
