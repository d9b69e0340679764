namespace RaftPipeline.Modeling.Config;

/// <summary>
/// The mixture-of-experts keys of a Qwen3-MoE config.json (configuration_qwen3_moe.py). Layer i holds the sparse block
/// when i is not in <see cref="MlpOnlyLayers"/> and (i + 1) is a multiple of <see cref="DecoderSparseStep"/>; the other
/// layers keep the dense MLP of intermediate_size.
/// </summary>
public sealed record MoeConfig
{
    /// <summary>num_experts (transformers 4.x) / num_local_experts (5.x): routed experts per sparse layer.</summary>
    public required int NumExperts { get; init; }
    /// <summary>num_experts_per_tok: the top-k experts each token is sent to.</summary>
    public required int NumExpertsPerTok { get; init; }
    /// <summary>norm_topk_prob: renormalise the k selected probabilities to sum to 1.</summary>
    public required bool NormTopkProb { get; init; }
    /// <summary>moe_intermediate_size: each expert's inner width.</summary>
    public required int MoeIntermediateSize { get; init; }
    public int DecoderSparseStep { get; init; } = 1;
    public IReadOnlyList<int> MlpOnlyLayers { get; init; } = [];

    public bool IsSparseLayer(int layer) =>
        !MlpOnlyLayers.Contains(layer) && NumExperts > 0 && (layer + 1) % DecoderSparseStep == 0;
}
