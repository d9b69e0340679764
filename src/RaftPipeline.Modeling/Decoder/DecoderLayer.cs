using RaftPipeline.Modeling.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// Pre-norm block: h + attn(norm(h)), then h + mlp(norm(h)). Gemma 2/3 ("sandwich" norms, four per block) also norm
/// each sub-block's output before its residual add: h + post_attention_layernorm(attn(input_layernorm(h))), then
/// h + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(h))). In Llama's naming post_attention_layernorm is
/// the norm before the MLP; in Gemma's it is the one after attention: the keys are the checkpoints'.
/// Qwen3-MoE's sparse layers hold a <see cref="SparseMoeBlock"/> in the MLP's place (the same "mlp" key).
/// </summary>
public sealed class DecoderLayer : nn.Module
{
    public Attention self_attn;
    /// <summary>The feed-forward block under transformers' key "mlp": a dense <see cref="Mlp"/>, or Qwen3-MoE's <see cref="SparseMoeBlock"/>.</summary>
    public nn.Module mlp;
    public RmsNorm input_layernorm;
    public RmsNorm post_attention_layernorm;
    public RmsNorm? pre_feedforward_layernorm;
    public RmsNorm? post_feedforward_layernorm;

    public DecoderLayer(ModelConfig config, int layerIndex, ScalarType dtype, Device device) : base(nameof(DecoderLayer))
    {
        self_attn = new Attention(config, layerIndex, dtype, device);
        mlp = config.IsSparseLayer(layerIndex) ? new SparseMoeBlock(config, dtype, device) : new Mlp(config, dtype, device);
        double offset = config.Descriptor.NormWeightOffset;
        input_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device, offset);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device, offset);
        if (config.Descriptor.SandwichNorms)
        {
            pre_feedforward_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device, offset);
            post_feedforward_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device, offset);
        }
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor cos, Tensor sin, Tensor? mask, bool isCausal, KvCache? cache)
    {
        using var scope = torch.NewDisposeScope();
        Tensor h;
        if (pre_feedforward_layernorm is null || post_feedforward_layernorm is null)
        {
            h = hidden + self_attn.Forward(input_layernorm.forward(hidden), cos, sin, mask, isCausal, cache);
            h = h + FeedForward(post_attention_layernorm.forward(h));
            return h.MoveToOuterDisposeScope();
        }
        var attended = self_attn.Forward(input_layernorm.forward(hidden), cos, sin, mask, isCausal, cache);
        h = hidden + post_attention_layernorm.forward(attended);
        h = h + post_feedforward_layernorm.forward(FeedForward(pre_feedforward_layernorm.forward(h)));
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>The dense MLP, or null on a sparse layer.</summary>
    public Mlp? DenseMlp => mlp as Mlp;

    /// <summary>Qwen3-MoE's expert block on a sparse layer, else null.</summary>
    public SparseMoeBlock? Moe => mlp as SparseMoeBlock;

    Tensor FeedForward(Tensor x) => Moe?.Forward(x) ?? DenseMlp!.Forward(x);

    /// <summary>The modules holding this layer's swappable projections directly: attention and a dense MLP.</summary>
    public IEnumerable<SlotHostModule> SlotHosts => DenseMlp is { } dense ? [self_attn, dense] : [self_attn];
}
