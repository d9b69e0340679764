using RaftPipeline.Modeling.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>Pre-norm block: h + attn(norm(h)), then h + mlp(norm(h)).</summary>
public sealed class DecoderLayer : nn.Module
{
    public Attention self_attn;
    public Mlp mlp;
    public RmsNorm input_layernorm;
    public RmsNorm post_attention_layernorm;

    public DecoderLayer(ModelConfig config, int layerIndex, ScalarType dtype, Device device) : base(nameof(DecoderLayer))
    {
        self_attn = new Attention(config, layerIndex, dtype, device);
        mlp = new Mlp(config, dtype, device);
        input_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor cos, Tensor sin, Tensor? mask, bool isCausal, KvCache? cache)
    {
        using var scope = torch.NewDisposeScope();
        var h = hidden + self_attn.Forward(input_layernorm.forward(hidden), cos, sin, mask, isCausal, cache);
        h = h + mlp.Forward(post_attention_layernorm.forward(h));
        return h.MoveToOuterDisposeScope();
    }
}
