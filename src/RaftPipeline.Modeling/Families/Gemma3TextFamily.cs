using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;

namespace RaftPipeline.Modeling.Families;

/// <summary>
/// Gemma 3 text (modeling_gemma3.py, Gemma3ForCausalLM): Gemma 2's blocks plus per-head q/k RMSNorm (1 + weight),
/// usually no attention soft-cap, and its own RoPE base on the sliding layers (rope_local_base_freq in 4.x,
/// rope_parameters.sliding_attention in 5.x) while the full layers use rope_theta with any scaling.
/// </summary>
public sealed class Gemma3TextFamily : FamilyDescriptor
{
    public override DecoderFamily Family => DecoderFamily.Gemma3Text;
    public override string ModelType => "gemma3_text";
    public override string Architecture => "Gemma3ForCausalLM";
    public override bool QkNorm => true;
    public override double NormWeightOffset => 1;
    public override bool ScaleEmbeddings => true;
    public override bool SandwichNorms => true;

    public override ModelConfig Read(ModelConfig shared, ConfigJsonReader r)
    {
        var config = GemmaConfig.Read(shared, r, slidingEvery: 6);
        double local;
        if (r.OptionalObject("rope_parameters") is { } p && p.Has("sliding_attention"))
        {
            var (theta, scaling) = ModelConfigReader.ReadRope(r, "sliding_attention");
            if (scaling is not null)
                throw r.Error("rope_parameters.sliding_attention.rope_type", $"'{scaling.Type}' is not supported on sliding layers (supported: default)");
            local = theta;
        }
        else local = r.OptionalDouble("rope_local_base_freq") ?? 10000.0;
        return config with { RopeLocalTheta = local };
    }

    public override void Write(ModelConfig config, JsonObject json)
    {
        GemmaConfig.Write(config, json);
        json["rope_local_base_freq"] = config.RopeLocalTheta;
    }
}
