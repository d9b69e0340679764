using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;

namespace RaftPipeline.Modeling.Families;

/// <summary>
/// Qwen3-MoE (modeling_qwen3_moe.py): Qwen3's attention (q/k norms), and on the sparse layers a routed mixture of
/// SwiGLU experts in place of the MLP (<see cref="Decoder.SparseMoeBlock"/>): a bias-free router, softmax in fp32,
/// top-k, renormalised when norm_topk_prob. No shared expert (that is Qwen2-MoE). transformers adds the router's
/// load-balancing loss only when output_router_logits is set, which is false by default and refused here.
/// The checkpoint keeps one gate_proj/up_proj/down_proj per expert (mlp.experts.N.*); peft's LoRA reaches the experts
/// only through target_parameters (mlp.experts.gate_up_proj, mlp.experts.down_proj: transformers 5.x fuses them in
/// memory), so target_modules names select the attention projections and any dense layer's MLP.
/// </summary>
public sealed class Qwen3MoeFamily : FamilyDescriptor
{
    public override DecoderFamily Family => DecoderFamily.Qwen3Moe;
    public override string ModelType => "qwen3_moe";
    public override string Architecture => "Qwen3MoeForCausalLM";
    public override bool QkNorm => true;

    /// <summary>
    /// The attention projections only: peft (transformers 5.x) reads gate_proj/up_proj/down_proj in a Qwen3-MoE
    /// adapter's target_modules as the experts, which are adapted through <see cref="LoraTargetParameters"/>.
    /// </summary>
    public override IReadOnlyList<string> LoraTargetNames => ["q_proj", "k_proj", "v_proj", "o_proj"];

    /// <summary>peft's target_parameters for the experts, as the fused tensors transformers 5.x holds are named.</summary>
    public override IReadOnlyList<string> LoraTargetParameters => ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"];

    public override ModelConfig Read(ModelConfig shared, ConfigJsonReader r)
    {
        if (r.OptionalBool("use_sliding_window") ?? false)
            throw r.Error("use_sliding_window", "true is not supported for qwen3_moe (supported: false)");
        if (r.OptionalBool("output_router_logits") ?? false)
            throw r.Error("output_router_logits",
                "true is not supported: the router's load-balancing loss (router_aux_loss_coef) is not implemented (supported: false, transformers' default)");
        foreach (var key in new[] { "shared_expert_intermediate_size", "n_shared_experts", "num_shared_experts" })
            if (r.OptionalInt(key) is int n && n != 0)
                throw r.Error(key, $"{n} is not supported: Qwen3-MoE has no shared expert (supported: 0 or absent)");
        if (r.OptionalDouble("attention_dropout") is double p && p != 0)
            throw r.Error("attention_dropout", $"{p} is not supported (supported: 0.0; dropout inside the blocks is not implemented)");

        // transformers 5.x writes num_local_experts (num_experts is its attribute_map alias), 4.x num_experts.
        string expertsKey = r.Has("num_local_experts") ? "num_local_experts" : "num_experts";
        int experts = r.OptionalInt(expertsKey) ?? 128;
        if (experts <= 0) throw r.Error(expertsKey, $"expected a positive integer, found {experts}");
        int topK = r.OptionalInt("num_experts_per_tok") ?? 8;
        if (topK <= 0 || topK > experts)
            throw r.Error("num_experts_per_tok", $"{topK} is not supported (supported: 1 to {expertsKey} = {experts})");
        int inner = r.OptionalInt("moe_intermediate_size") ?? 768;
        if (inner <= 0) throw r.Error("moe_intermediate_size", $"expected a positive integer, found {inner}");
        int step = r.OptionalInt("decoder_sparse_step") ?? 1;
        if (step <= 0) throw r.Error("decoder_sparse_step", $"expected a positive integer, found {step}");
        var mlpOnly = ReadLayerList(r, "mlp_only_layers", shared.NumHiddenLayers);

        bool bias = r.OptionalBool("attention_bias") ?? false;
        return shared with
        {
            QkvBias = bias,
            OutputBias = bias,
            Moe = new MoeConfig
            {
                NumExperts = experts,
                NumExpertsPerTok = topK,
                NormTopkProb = r.OptionalBool("norm_topk_prob") ?? false,
                MoeIntermediateSize = inner,
                DecoderSparseStep = step,
                MlpOnlyLayers = mlpOnly,
            },
        };
    }

    static IReadOnlyList<int> ReadLayerList(ConfigJsonReader r, string key, int layers)
    {
        if (r.Raw(key) is not { } v) return [];
        if (v.ValueKind != JsonValueKind.Array) throw r.Error(key, $"expected a list of layer indices, found {v.GetRawText()}");
        var list = new List<int>();
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out var i) || i < 0 || i >= layers)
                throw r.Error(key, $"entry {e.GetRawText()} is not a layer index (supported: integers 0 to {layers - 1})");
            list.Add(i);
        }
        return list;
    }

    public override void Write(ModelConfig config, JsonObject json)
    {
        var moe = config.Moe ?? throw new InvalidOperationException("a qwen3_moe config without its experts");
        json["attention_bias"] = config.QkvBias;
        json["use_sliding_window"] = false;
        json["sliding_window"] = null;
        // Both names: transformers 5.x reads num_local_experts (and maps num_experts onto it), 4.x reads num_experts.
        json["num_experts"] = moe.NumExperts;
        json["num_local_experts"] = moe.NumExperts;
        json["num_experts_per_tok"] = moe.NumExpertsPerTok;
        json["norm_topk_prob"] = moe.NormTopkProb;
        json["moe_intermediate_size"] = moe.MoeIntermediateSize;
        json["decoder_sparse_step"] = moe.DecoderSparseStep;
        json["mlp_only_layers"] = new JsonArray(moe.MlpOnlyLayers.Select(i => (JsonNode)i).ToArray());
        json["output_router_logits"] = false;
    }
}
