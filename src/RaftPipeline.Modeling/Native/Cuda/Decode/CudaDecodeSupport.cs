using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Native.Cuda.Decode;

/// <summary>
/// What the CUDA decode session covers, and for everything else the reason it declines (the run then decodes on the
/// libtorch path, which is the definition). Covered: bf16 dense decoders with pre-norm blocks, plain RMSNorm (weight
/// offset 0), optional per-head q/k RMSNorm (Qwen3), full-width RoPE of any non-dynamic type, GQA, SwiGLU, no biases,
/// separate q/k/v and gate/up projections, no soft-capping or sliding windows: Qwen3 and Llama-style models. Projections
/// may be plain bf16, NF4 (bitsandbytes layout, blocksize 64) or LoRA-wrapped (merged at session start). Batch 1–16.
/// </summary>
public static class CudaDecodeSupport
{
    /// <summary>The largest head size, hidden size and static-cache length the kernels take.</summary>
    public const int MaxHeadDim = 256, MaxHidden = 8192, MaxCapacity = 50_000;

    public static string? WhyNot(CausalLM model, int batch, int capacity)
    {
        if (model.Device.type != DeviceType.CUDA) return "the model is not on a CUDA device";
        if (model.Dtype != ScalarType.BFloat16) return $"the model's dtype is {model.Dtype}; the decode kernels are bf16";
        if (model.lm_head?.bias is not null) return "an output head with a bias is not covered";
        return WhyNotForConfig(model.Config, batch, capacity);
    }

    /// <summary>The rules that depend on the architecture and the run only (no weights, no device).</summary>
    public static string? WhyNotForConfig(ModelConfig c, int batch, int capacity)
    {
        var d = c.Descriptor;
        if (batch < 1 || batch > DecodeKernels.MaxBatch) return $"batch {batch} is outside 1–{DecodeKernels.MaxBatch}";
        if (capacity > MaxCapacity) return $"{capacity} cache slots exceed the attention kernel's {MaxCapacity}";
        if (c.Family is not (DecoderFamily.Qwen3 or DecoderFamily.Llama))
            return $"the {c.Family} family is not covered by the decode kernels (Qwen3 and Llama are)";
        if (d.FusedProjections || d.SandwichNorms || d.ScaleEmbeddings || d.NormWeightOffset != 0)
            return $"the {c.Family} block layout is not covered";
        if (c.Moe is not null) return "mixture-of-experts layers are not covered (dense MLPs only)";
        if (c.QkvBias || c.OutputBias || c.MlpBias) return "projection biases are not covered";
        if (c.HiddenAct != "silu") return $"activation {c.HiddenAct} is not covered (SwiGLU only)";
        if (c.AttnLogitSoftcapping is not null || c.FinalLogitSoftcapping is not null) return "soft-capping is not covered";
        if (c.SlidingWindow is not null) return "sliding-window attention is not covered";
        if (c.RotaryDim != c.HeadDim) return "partial rotary embeddings are not covered";
        if (c.RopeScaling?.Type is "dynamic" or "longrope") return $"{c.RopeScaling.Type} RoPE scaling is not covered (its frequencies change with the sequence length)";
        if (c.HeadDim > MaxHeadDim || c.HeadDim % 8 != 0) return $"head size {c.HeadDim} is not covered (a multiple of 8, ≤ {MaxHeadDim})";
        if (c.VocabSize % 8 != 0) return $"vocabulary size {c.VocabSize} is not covered (a multiple of 8)";
        if (c.HiddenSize > MaxHidden || c.HiddenSize % 8 != 0) return $"hidden size {c.HiddenSize} is not covered (a multiple of 8, ≤ {MaxHidden})";
        if (c.IntermediateSize % 8 != 0 || c.HeadDim * c.NumAttentionHeads % 8 != 0) return "projection widths must be multiples of 8";
        if (c.NumAttentionHeads % c.NumKeyValueHeads != 0) return "query heads must be a multiple of key/value heads";
        return null;
    }
}
