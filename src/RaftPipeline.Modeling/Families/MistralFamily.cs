using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;

namespace RaftPipeline.Modeling.Families;

/// <summary>
/// Mistral (modeling_mistral.py): Llama's blocks without biases, and sliding-window attention on every layer when
/// sliding_window is set (training, prefill and the KV cache alike: the window is part of the mask).
/// </summary>
public sealed class MistralFamily : FamilyDescriptor
{
    public override DecoderFamily Family => DecoderFamily.Mistral;
    public override string ModelType => "mistral";
    public override string Architecture => "MistralForCausalLM";

    public override ModelConfig Read(ModelConfig shared, ConfigJsonReader r)
    {
        var window = r.OptionalInt("sliding_window");
        if (window is <= 0) throw r.Error("sliding_window", $"expected a positive integer or null, found {window}");
        return shared with { SlidingWindow = window };
    }

    public override void Write(ModelConfig config, JsonObject json)
    {
        if (config.SlidingWindow is null) json["sliding_window"] = null;
    }
}
