using System.ComponentModel;
using System.Reflection;
using RaftPipeline.Core.Spec.Stages;

namespace RaftPipeline.Core.Spec;

/// <summary>
/// Every stage kind the spec accepts. The binder, the validator, the JSON Schema and the docs all read this
/// list and the parameter records it names: add a kind or a slot here and all of them follow.
/// </summary>
public static class StageKindCatalog
{
    /// <summary>Stages whose artifact is a model folder a stage can run: 16-bit (model, merge) or 4-bit (quantize).</summary>
    static readonly string[] ModelKinds = ["model", "quantize", "merge"];
    /// <summary>Stages whose artifact is a 16-bit Hugging Face folder (tokenizer included), never a quantized one.</summary>
    static readonly string[] FullPrecisionKinds = ["model", "merge"];
    static readonly string[] AdapterKinds = ["train", "lora"];

    public static IReadOnlyList<StageKindInfo> Kinds { get; } =
    [
        Kind<ModelParameters>("model"),
        Kind<LoadParameters>("load",
            Slot("files", required: true, many: true, path: true, kinds: [],
                "CSV or JSONL files, concatenated in order.")),
        Kind<FormatParameters>("format",
            Slot("data", true, false, false, ["load"], "The rows to format."),
            ModelSlot("model", true, FullPrecisionKinds, "Model folder whose tokenizer and chat template render the texts.")),
        Kind<AnalyzeParameters>("analyze",
            Slot("data", true, false, false, ["format"], "The formatted texts."),
            ModelSlot("model", true, FullPrecisionKinds, "Model folder whose tokenizer counts the tokens.")),
        Kind<QuantizeParameters>("quantize",
            ModelSlot("model", true, FullPrecisionKinds, "Hugging Face model folder to quantize.")),
        Kind<LoraParameters>("lora",
            ModelSlot("model", true, ModelKinds, "The (quantized) model the adapter is shaped for.")),
        Kind<TrainParameters>("train",
            ModelSlot("model", true, ModelKinds, "The (quantized) base model, frozen during training."),
            Slot("adapter", true, false, false, ["lora"], "The initialized adapter to train."),
            Slot("data", true, false, false, ["format"], "The formatted training texts."),
            Slot("eval_data", false, false, false, ["format"], "Formatted held-out texts for an evaluation loss.")),
        Kind<MergeParameters>("merge",
            ModelSlot("model", true, FullPrecisionKinds, "The 16-bit base model folder (not the quantized one)."),
            ModelSlot("adapter", true, AdapterKinds, "The adapter to merge."),
            Slot("eval", false, false, false, ["eval"], "Evaluation results for the model cards' eval table.")),
        Kind<GenerateParameters>("generate",
            ModelSlot("model", true, ModelKinds, "The base model."),
            ModelSlot("adapter", false, AdapterKinds, "The tuned adapter; absent: the base model only.")),
        Kind<EvalParameters>("eval",
            ModelSlot("model", true, ModelKinds, "The base model."),
            ModelSlot("adapter", false, AdapterKinds, "The tuned adapter; absent: the base model only."),
            Slot("data", true, false, false, ["load"], "The rows to evaluate on (the load stage's test split).")),
        Kind<ExportParameters>("export",
            ModelSlot("model", true, FullPrecisionKinds, "The 16-bit model folder (a merge stage's output, or the base when an adapter is given)."),
            ModelSlot("adapter", false, AdapterKinds, "A LoRA adapter: merged first, or written as a LoRA GGUF (merge: false).")),
        Kind<PushParameters>("push",
            Slot("folder", true, false, true, ["train", "lora", "merge", "model", "quantize"],
                "The adapter or model folder to upload: its model and tokenizer files and README.md (the model card).")),
    ];

    public static StageKindInfo? Find(string kind) => Kinds.FirstOrDefault(k => k.Name == kind);

    public static StageKindInfo Get(string kind) =>
        Find(kind) ?? throw new KeyNotFoundException($"unknown stage kind '{kind}'");

    /// <summary>The kind whose parameter record is <paramref name="parametersType"/>.</summary>
    public static StageKindInfo ForParameters(Type parametersType) =>
        Kinds.FirstOrDefault(k => k.ParametersType == parametersType)
        ?? throw new KeyNotFoundException($"no stage kind has parameters of type {parametersType.Name}");

    static StageKindInfo Kind<T>(string name, params InputSlot[] slots) where T : StageParameters, new() =>
        new(name, typeof(T), slots, typeof(T).GetCustomAttribute<DescriptionAttribute>()?.Description ?? name);

    static InputSlot Slot(string name, bool required, bool many, bool path, string[] kinds, string description) =>
        new(name, required, many, path, kinds, description);

    /// <summary>A model or adapter folder: a path, a Hugging Face model id, or a stage of the kinds given.</summary>
    static InputSlot ModelSlot(string name, bool required, string[] kinds, string description) =>
        new(name, required, false, true, kinds, description) { AcceptsModelId = true };
}
