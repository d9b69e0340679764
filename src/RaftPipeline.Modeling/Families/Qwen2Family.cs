using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;

namespace RaftPipeline.Modeling.Families;

/// <summary>Qwen2 (modeling_qwen2.py): Llama's blocks with a bias on q, k, v hard-coded (never on o).</summary>
public sealed class Qwen2Family : FamilyDescriptor
{
    public override DecoderFamily Family => DecoderFamily.Qwen2;
    public override string ModelType => "qwen2";
    public override string Architecture => "Qwen2ForCausalLM";

    public override ModelConfig Read(ModelConfig shared, ConfigJsonReader r)
    {
        if (r.OptionalBool("use_sliding_window") ?? false)
            throw r.Error("use_sliding_window", "true is not supported for qwen2 (supported: false)");
        return shared with { QkvBias = true, OutputBias = false };
    }

    public override void Write(ModelConfig config, JsonObject json) => json["attention_bias"] = false;
}
