using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// The Qwen3-MoE router (transformers' Qwen3MoeTopKRouter, checkpoint key mlp.gate.weight [experts, hidden]): logits
/// x·Wᵀ in the activations' dtype, softmax over the experts in fp32, the top k, divided by their sum when
/// norm_topk_prob, cast back to the activations' dtype. A plain parameter, not a linear slot: neither peft's LoRA nor
/// quantization touch it, as transformers' router is no nn.Linear.
/// </summary>
public sealed class MoeRouter : nn.Module
{
    public Parameter weight;

    readonly int _topK;
    readonly bool _normalize;

    public MoeRouter(ModelConfig config, MoeConfig moe, ScalarType dtype, Device device) : base(nameof(MoeRouter))
    {
        weight = ParameterFactory.Empty([moe.NumExperts, config.HiddenSize], dtype, device);
        _topK = moe.NumExpertsPerTok;
        _normalize = moe.NormTopkProb;
        RegisterComponents();
    }

    /// <param name="x">[tokens, hidden]</param>
    /// <returns>routing weights [tokens, k] in x's dtype and the chosen experts [tokens, k] int64, best first</returns>
    public (Tensor Weights, Tensor Experts) Route(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var logits = nn.functional.linear(x, weight);
        var probs = nn.functional.softmax(logits, -1, ScalarType.Float32);
        var (top, experts) = probs.topk(_topK, dim: -1);
        if (_normalize) top = top / top.sum(-1, keepdim: true);
        return (top.to(logits.dtype).MoveToOuterDisposeScope(), experts.MoveToOuterDisposeScope());
    }
}
