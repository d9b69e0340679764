using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>SwiGLU feed-forward: down_proj(silu(gate_proj(x)) · up_proj(x)).</summary>
public sealed class Mlp : SlotHostModule
{
    public LinearSlot gate_proj;
    public LinearSlot up_proj;
    public LinearSlot down_proj;

    static readonly string[] Slots = ["gate_proj", "up_proj", "down_proj"];
    static readonly string[] InputSlots = ["gate_proj", "up_proj"];

    public Mlp(ModelConfig config, ScalarType dtype, Device device) : base(nameof(Mlp))
    {
        gate_proj = new Linear(config.HiddenSize, config.IntermediateSize, config.MlpBias, dtype, device);
        up_proj = new Linear(config.HiddenSize, config.IntermediateSize, config.MlpBias, dtype, device);
        down_proj = new Linear(config.IntermediateSize, config.HiddenSize, config.MlpBias, dtype, device);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var gated = FusedPaths.SwiGluStacked(InputLora, x) ?? Gated(x);
        return Project([down_proj], OutputLora, gated)[0].MoveToOuterDisposeScope();
    }

    Tensor Gated(Tensor x)
    {
        var gateUp = Project([gate_proj, up_proj], InputLora, x);
        Tensor gate = gateUp[0], up = gateUp[1];
        return FusedPaths.SwiGlu(gate, up) ?? nn.functional.silu(gate) * up;
    }

    public override IReadOnlyList<string> SlotNames => Slots;
    public override IReadOnlyList<string> InputSlotNames => InputSlots;
    public override string OutputSlotName => "down_proj";

    public override LinearSlot GetSlot(string name) => name switch
    {
        "gate_proj" => gate_proj,
        "up_proj" => up_proj,
        "down_proj" => down_proj,
        _ => throw UnknownSlot(name),
    };

    protected override void SetSlotField(string name, LinearSlot slot)
    {
        switch (name)
        {
            case "gate_proj": gate_proj = slot; break;
            case "up_proj": up_proj = slot; break;
            case "down_proj": down_proj = slot; break;
            default: throw UnknownSlot(name);
        }
    }
}
