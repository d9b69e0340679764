using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RaftPipeline.Core.Spec.Stages;

/// <summary>Parameters of an <c>export</c> stage: the model (or base + adapter) as GGUF for llama.cpp, with an Ollama Modelfile.</summary>
[Description("Writes the model as a GGUF file for llama.cpp / Ollama / LM Studio (our own writer: F32, F16, BF16, Q8_0, Q4_K_M), the adapter as a LoRA GGUF when kept apart, an Ollama Modelfile and export.json.")]
public sealed record ExportParameters : StageParameters
{
    [Description("GGUF type: f32, f16, bf16, q8_0, or q4_k_m (llama.cpp's Q4_K_M mix of Q4_K and Q6_K).")]
    [RegularExpression("^(f32|f16|bf16|q8_0|q4_k_m)$")]
    public string Type { get; init; } = "q8_0";

    [Description("With an adapter: true merges it into the base first (one GGUF); false writes the base GGUF and the adapter as a LoRA GGUF that llama.cpp and Ollama apply at load (Modelfile ADAPTER).")]
    public bool Merge { get; init; } = true;

    [Description("general.name and the files' stem. Absent: the model folder's name.")]
    public string? Name { get; init; }
}
