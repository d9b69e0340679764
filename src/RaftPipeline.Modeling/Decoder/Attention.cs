using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// Grouped-query self-attention (Qwen3Attention / Qwen2Attention / LlamaAttention): q/k/v projections,
/// per-head RMSNorm of q and k before RoPE (Qwen3 only), RoPE, KV cache, scaled dot-product attention with
/// scale 1/√head_dim, o projection. Field names are the checkpoint keys (…self_attn.q_proj.weight).
/// </summary>
public sealed class Attention : SlotHostModule
{
    public LinearSlot q_proj;
    public LinearSlot k_proj;
    public LinearSlot v_proj;
    public LinearSlot o_proj;
    public RmsNorm? q_norm;
    public RmsNorm? k_norm;

    readonly int _layerIndex;
    readonly int _heads;
    readonly int _kvHeads;
    readonly int _headDim;

    static readonly string[] Slots = ["q_proj", "k_proj", "v_proj", "o_proj"];
    static readonly string[] InputSlots = ["q_proj", "k_proj", "v_proj"];

    public Attention(ModelConfig config, int layerIndex, ScalarType dtype, Device device) : base(nameof(Attention))
    {
        _layerIndex = layerIndex;
        _heads = config.NumAttentionHeads;
        _kvHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        long hidden = config.HiddenSize;
        q_proj = new Linear(hidden, _heads * _headDim, config.QkvBias, dtype, device);
        k_proj = new Linear(hidden, _kvHeads * _headDim, config.QkvBias, dtype, device);
        v_proj = new Linear(hidden, _kvHeads * _headDim, config.QkvBias, dtype, device);
        o_proj = new Linear(_heads * _headDim, hidden, config.OutputBias, dtype, device);
        if (config.QkNorm)
        {
            q_norm = new RmsNorm(_headDim, config.RmsNormEps, dtype, device);
            k_norm = new RmsNorm(_headDim, config.RmsNormEps, dtype, device);
        }
        RegisterComponents();
    }

    /// <param name="x">[B, T, hidden]</param>
    /// <param name="cos">[B, T, head_dim], with <paramref name="sin"/></param>
    /// <param name="mask">boolean [B, 1, T, past+T] (true = may attend), or null</param>
    /// <param name="isCausal">no mask and no past: let SDPA apply the causal mask itself</param>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, bool isCausal, KvCache? cache)
    {
        using var scope = torch.NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];

        var (q, k, v) = (cache is null
            ? FusedPaths.AttentionInputs(x, () => QkvRow(x), q_norm, k_norm, cos, sin, _heads, _kvHeads, _headDim)
            : null) ?? Inputs(x, cos, sin, b, t, cache);
        var attended = nn.functional.scaled_dot_product_attention(q, k, v, mask, 0.0, isCausal);
        // [B, heads, T, d] → [B, T, heads·d]
        var merged = attended.transpose(1, 2).reshape(b, t, _heads * _headDim);
        return Project([o_proj], OutputLora, merged)[0].MoveToOuterDisposeScope();
    }

    /// <summary>q, k, v as SDPA takes them ([B, heads, T, d], k and v repeated for GQA), op by op; the KV cache in between.</summary>
    (Tensor Q, Tensor K, Tensor V) Inputs(Tensor x, Tensor cos, Tensor sin, long b, long t, KvCache? cache)
    {
        // [B, T, heads·d] → [B, T, heads, d]; the per-head norm acts on d; then → [B, heads, T, d].
        var qkv = Project([q_proj, k_proj, v_proj], InputLora, x);
        var q = qkv[0].view(b, t, _heads, _headDim);
        var k = qkv[1].view(b, t, _kvHeads, _headDim);
        var v = qkv[2].view(b, t, _kvHeads, _headDim).transpose(1, 2);
        if (q_norm is not null) q = q_norm.forward(q);
        if (k_norm is not null) k = k_norm.forward(k);
        q = RotaryEmbedding.ApplyToProjection(q, cos, sin);
        k = RotaryEmbedding.ApplyToProjection(k, cos, sin);

        if (cache is not null) (k, v) = cache.Update(_layerIndex, k, v);

        // GQA: key/value head j serves query heads j·g … j·g+g−1 (transformers' repeat_kv); TorchSharp's SDPA
        // has no enable_gqa, so the heads are repeated explicitly.
        int groups = _heads / _kvHeads;
        if (groups > 1)
        {
            k = k.repeat_interleave(groups, dim: 1);
            v = v.repeat_interleave(groups, dim: 1);
        }
        return (q, k, v);
    }

    /// <summary>
    /// The q|k|v projections side by side [B, T, (heads + 2·kvHeads)·d], for a fused kernel that reads them as one row:
    /// straight out of a stacked LoRA group, else concatenated.
    /// </summary>
    Tensor QkvRow(Tensor x) =>
        (InputLora is { Members.Count: 3 } group && group.Accepts(x) ? group.ForwardStacked(x) : null)
        ?? torch.cat(Project([q_proj, k_proj, v_proj], InputLora, x), -1);

    public override IReadOnlyList<string> SlotNames => Slots;
    public override IReadOnlyList<string> InputSlotNames => InputSlots;
    public override string OutputSlotName => "o_proj";

    public override LinearSlot GetSlot(string name) => name switch
    {
        "q_proj" => q_proj,
        "k_proj" => k_proj,
        "v_proj" => v_proj,
        "o_proj" => o_proj,
        _ => throw UnknownSlot(name),
    };

    protected override void SetSlotField(string name, LinearSlot slot)
    {
        switch (name)
        {
            case "q_proj": q_proj = slot; break;
            case "k_proj": k_proj = slot; break;
            case "v_proj": v_proj = slot; break;
            case "o_proj": o_proj = slot; break;
            default: throw UnknownSlot(name);
        }
    }
}
