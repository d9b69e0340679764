namespace RaftPipeline.Export.Families;

/// <summary>The families export writes, by config.json model_type.</summary>
public static class GgufFamilies
{
    public static readonly IReadOnlyList<GgufFamily> All =
    [
        new Qwen3GgufFamily(), new Qwen2GgufFamily(), new LlamaGgufFamily(), new MistralGgufFamily(),
        new Phi3GgufFamily(), new Gemma2GgufFamily(), new Gemma3GgufFamily(), new Qwen3MoeGgufFamily(),
    ];

    public static string SupportedModelTypes => string.Join(", ", All.Select(f => f.ModelType));

    public static GgufFamily? For(string modelType) => All.FirstOrDefault(f => f.ModelType == modelType);
}
