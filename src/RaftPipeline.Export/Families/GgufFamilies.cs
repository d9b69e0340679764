namespace RaftPipeline.Export.Families;

/// <summary>The families export writes, by config.json model_type.</summary>
public static class GgufFamilies
{
    public static readonly IReadOnlyList<GgufFamily> All =
    [
        new Qwen3GgufFamily(), new Qwen2GgufFamily(), new LlamaGgufFamily(), new MistralGgufFamily(),
        new Phi3GgufFamily(), new Gemma2GgufFamily(), new Gemma3GgufFamily(),
    ];

    public static string SupportedModelTypes => string.Join(", ", All.Select(f => f.ModelType));

    public static GgufFamily? For(string modelType) => All.FirstOrDefault(f => f.ModelType == modelType);

    /// <summary>Why a model_type the tool may load is not exported (appended to the refusal).</summary>
    public static string WhyNot(string modelType) => modelType switch
    {
        "qwen3_moe" => ": the Qwen3-MoE GGUF layout (qwen3moe: stacked ffn_{gate,up,down}_exps, ffn_gate_inp) is not written yet",
        _ => "",
    };
}
