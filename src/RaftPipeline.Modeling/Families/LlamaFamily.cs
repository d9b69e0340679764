using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;

namespace RaftPipeline.Modeling.Families;

/// <summary>Llama (modeling_llama.py), the parent of the others: biases only with attention_bias / mlp_bias.</summary>
public sealed class LlamaFamily : FamilyDescriptor
{
    public override DecoderFamily Family => DecoderFamily.Llama;
    public override string ModelType => "llama";
    public override string Architecture => "LlamaForCausalLM";

    public override ModelConfig Read(ModelConfig shared, ConfigJsonReader r)
    {
        bool bias = r.OptionalBool("attention_bias") ?? false;
        return shared with { QkvBias = bias, OutputBias = bias, MlpBias = r.OptionalBool("mlp_bias") ?? false };
    }

    public override void Write(ModelConfig config, JsonObject json)
    {
        json["attention_bias"] = config.QkvBias;
        json["mlp_bias"] = config.MlpBias;
    }
}
