using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// Grouped-query self-attention (LlamaAttention and the families' changes to it): q/k/v projections (Phi-3: one fused
/// qkv_proj), per-head RMSNorm of q and k before RoPE (Qwen3, Gemma 3), RoPE (partial for Phi-3), KV cache, attention
/// with scale 1/√head_dim (Gemma: 1/√query_pre_attn_scalar) and, for Gemma 2, soft-capped scores; o projection.
/// Field names are the checkpoint keys (…self_attn.q_proj.weight).
/// </summary>
public sealed class Attention : SlotHostModule
{
    public LinearSlot? q_proj;
    public LinearSlot? k_proj;
    public LinearSlot? v_proj;
    /// <summary>Phi-3's fused projection, rows q | k | v (in place of q_proj, k_proj, v_proj).</summary>
    public LinearSlot? qkv_proj;
    public LinearSlot o_proj;
    public RmsNorm? q_norm;
    public RmsNorm? k_norm;

    readonly int _layerIndex;
    readonly int _heads;
    readonly int _kvHeads;
    readonly int _headDim;
    readonly double _scale;
    readonly double? _softcap;
    readonly string[] _slots;
    readonly string[] _inputSlots;

    public Attention(ModelConfig config, int layerIndex, ScalarType dtype, Device device) : base(nameof(Attention))
    {
        _layerIndex = layerIndex;
        _heads = config.NumAttentionHeads;
        _kvHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        _scale = config.AttentionScale;
        _softcap = config.AttnLogitSoftcapping;
        long hidden = config.HiddenSize;
        if (config.Descriptor.FusedProjections)
        {
            qkv_proj = new Linear(hidden, (_heads + 2 * _kvHeads) * _headDim, config.QkvBias, dtype, device);
            _inputSlots = ["qkv_proj"];
        }
        else
        {
            var qkv = Linear.SideBySide(hidden, [_heads * _headDim, _kvHeads * _headDim, _kvHeads * _headDim], config.QkvBias, dtype, device);
            (q_proj, k_proj, v_proj) = (qkv[0], qkv[1], qkv[2]);
            _inputSlots = ["q_proj", "k_proj", "v_proj"];
        }
        _slots = [.. _inputSlots, "o_proj"];
        o_proj = new Linear(_heads * _headDim, hidden, config.OutputBias, dtype, device);
        if (config.QkNorm)
        {
            q_norm = new RmsNorm(_headDim, config.RmsNormEps, dtype, device, config.Descriptor.NormWeightOffset);
            k_norm = new RmsNorm(_headDim, config.RmsNormEps, dtype, device, config.Descriptor.NormWeightOffset);
        }
        RegisterComponents();
    }

    /// <param name="x">[B, T, hidden]</param>
    /// <param name="cos">[B, T, rotary dims], with <paramref name="sin"/></param>
    /// <param name="mask">boolean [B, 1, T, past+T] (true = may attend), or null</param>
    /// <param name="isCausal">no mask and no past: let SDPA apply the causal mask itself</param>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, bool isCausal, KvCache? cache)
    {
        using var scope = torch.NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];

        var (q, k, v) = (cache is null && qkv_proj is null
            ? FusedPaths.AttentionInputs(x, () => QkvRow(x), q_norm, k_norm, cos, sin, _heads, _kvHeads, _headDim)
            : null) ?? Inputs(x, cos, sin, b, t, cache);
        var attended = _softcap is null && _scale == 1.0 / Math.Sqrt(_headDim)
            ? nn.functional.scaled_dot_product_attention(q, k, v, mask, 0.0, isCausal)
            : Eager(q, k, v, mask, isCausal);
        // [B, heads, T, d] → [B, T, heads·d]
        var merged = attended.transpose(1, 2).reshape(b, t, _heads * _headDim);
        return Project([o_proj], OutputLora, merged)[0].MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Attention op by op, as transformers' eager_attention_forward (Gemma 2): scores = q·kᵀ · scale, soft-capped
    /// (cap · tanh(scores / cap)) when configured, masked, softmax in fp32, cast back, times v. For a scale other than
    /// 1/√d or a soft-cap, which SDPA does not take. Holds [B, heads, T, past+T] scores.
    /// </summary>
    Tensor Eager(Tensor q, Tensor k, Tensor v, Tensor? mask, bool isCausal)
    {
        using var scope = torch.NewDisposeScope();
        var scores = q.matmul(k.transpose(2, 3)) * _scale;
        if (_softcap is double cap) scores = (scores / cap).tanh() * cap;
        if (mask is null && isCausal)
        {
            long tq = q.shape[2], tk = k.shape[2];
            mask = torch.ones([tq, tk], ScalarType.Bool, q.device).tril(tk - tq).view(1, 1, tq, tk);
        }
        if (mask is not null) scores = scores.masked_fill(mask.logical_not(), double.NegativeInfinity);
        var weights = scores.softmax(-1, ScalarType.Float32).to(q.dtype);
        return weights.matmul(v).MoveToOuterDisposeScope();
    }

    /// <summary>q, k, v as SDPA takes them ([B, heads, T, d], k and v repeated for GQA), op by op; the KV cache in between.</summary>
    (Tensor Q, Tensor K, Tensor V) Inputs(Tensor x, Tensor cos, Tensor sin, long b, long t, KvCache? cache)
    {
        Tensor q, k, v;
        if (qkv_proj is not null)
        {
            // Phi-3: one row per token, q | k | v along the features.
            var row = Project([qkv_proj], InputLora, x)[0];
            q = row.narrow(-1, 0, _heads * _headDim);
            k = row.narrow(-1, _heads * _headDim, _kvHeads * _headDim);
            v = row.narrow(-1, (_heads + _kvHeads) * _headDim, _kvHeads * _headDim);
        }
        else
        {
            var qkv = Project([q_proj!, k_proj!, v_proj!], InputLora, x);
            (q, k, v) = (qkv[0], qkv[1], qkv[2]);
        }
        // [B, T, heads·d] → [B, T, heads, d]; the per-head norm acts on d; then → [B, heads, T, d].
        q = q.reshape(b, t, _heads, _headDim);
        k = k.reshape(b, t, _kvHeads, _headDim);
        v = v.reshape(b, t, _kvHeads, _headDim).transpose(1, 2);
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
        ?? torch.cat(Project([q_proj!, k_proj!, v_proj!], InputLora, x), -1);

    public override IReadOnlyList<string> SlotNames => _slots;
    public override IReadOnlyList<string> InputSlotNames => _inputSlots;
    public override string OutputSlotName => "o_proj";

    public override LinearSlot GetSlot(string name) => name switch
    {
        "q_proj" when q_proj is not null => q_proj,
        "k_proj" when k_proj is not null => k_proj,
        "v_proj" when v_proj is not null => v_proj,
        "qkv_proj" when qkv_proj is not null => qkv_proj,
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
            case "qkv_proj": qkv_proj = slot; break;
            case "o_proj": o_proj = slot; break;
            default: throw UnknownSlot(name);
        }
    }
}
