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

    /// <param name="model">the quantized model, its base frozen on return</param>
    /// <param name="holdDtype">
    /// the dtype of the non-4-bit parameters: fp32 as peft (default). A caller training without autocast in a 16-bit
    /// compute dtype passes that dtype instead: peft's fp32 embeddings and norms only feed autocast's bf16 matmuls
    /// there, whereas here they would turn the whole residual stream, attention included, into fp32 work
    /// (measured on the Qwen3-4B shape: the QLoRA step ran at half the bf16 LoRA step's speed).
    /// </param>
    public static Settings Prepare(CausalLM model, ScalarType holdDtype = ScalarType.Float32)
    {
        model.to(holdDtype);
        foreach (var (_, p) in model.named_parameters()) p.requires_grad = false;
        return new Settings(InputsRequireGrad: true, UseCache: false);
    }
}
