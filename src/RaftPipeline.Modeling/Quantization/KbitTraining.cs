using RaftPipeline.Modeling.Decoder;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Quantization;

/// <summary>
/// peft's prepare_model_for_kbit_training (peft/utils/other.py) as it maps to our decoder: every base parameter
/// frozen; every 16-bit parameter that is not a 4-bit weight (embeddings, norms, an untied lm_head) cast to fp32
/// for stable training; NF4 storage untouched (Nf4Linear ignores dtype conversion). The two switches peft flips on
/// the transformers model — input gradients on (enable_input_require_grads, needed by reentrant gradient
/// checkpointing) and the KV cache off (use_cache=False) — belong to the training loop here, so they come back as
/// settings the trainer must honour.
/// </summary>
public static class KbitTraining
{
    public sealed record Settings(bool InputsRequireGrad, bool UseCache);

    public static Settings Prepare(CausalLM model)
    {
        model.to(ScalarType.Float32);
        foreach (var (_, p) in model.named_parameters()) p.requires_grad = false;
        return new Settings(InputsRequireGrad: true, UseCache: false);
    }
}
