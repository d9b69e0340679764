using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;

namespace RaftPipeline.Modeling.Families;

/// <summary>Qwen3 (modeling_qwen3.py): Llama's blocks plus per-head RMSNorm on q and k; biases only with attention_bias.</summary>
public sealed class Qwen3Family : FamilyDescriptor
{
    public override DecoderFamily Family => DecoderFamily.Qwen3;
    public override string ModelType => "qwen3";
    public override string Architecture => "Qwen3ForCausalLM";
    public override bool QkNorm => true;

    public override ModelConfig Read(ModelConfig shared, ConfigJsonReader r)
    {
        if (r.OptionalBool("use_sliding_window") ?? false)
            throw r.Error("use_sliding_window", "true is not supported for qwen3 (supported: false)");
        bool bias = r.OptionalBool("attention_bias") ?? false;
        return shared with { QkvBias = bias, OutputBias = bias };
    }

    public override void Write(ModelConfig config, JsonObject json) => json["attention_bias"] = config.QkvBias;
}
