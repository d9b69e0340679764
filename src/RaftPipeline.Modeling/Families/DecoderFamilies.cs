using RaftPipeline.Modeling.Config;

namespace RaftPipeline.Modeling.Families;

/// <summary>The registry of supported families: one <see cref="FamilyDescriptor"/> each, found by model_type or enum.</summary>
public static class DecoderFamilies
{
    public static IReadOnlyList<FamilyDescriptor> All { get; } =
    [
        new Qwen3Family(),
        new Qwen2Family(),
        new LlamaFamily(),
        new MistralFamily(),
        new Phi3Family(),
        new Gemma2Family(),
        new Gemma3TextFamily(),
        new Qwen3MoeFamily(),
    ];

    /// <summary>The supported model_type values, for error messages.</summary>
    public static string SupportedModelTypes => string.Join(", ", All.Select(f => f.ModelType));

    public static FamilyDescriptor? ForModelType(string modelType) => All.FirstOrDefault(f => f.ModelType == modelType);

    public static FamilyDescriptor Of(DecoderFamily family) =>
        All.FirstOrDefault(f => f.Family == family) ?? throw new InvalidOperationException($"no descriptor for family {family}");
}
