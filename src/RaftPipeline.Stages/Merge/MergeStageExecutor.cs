using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Merge;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Stages.ModelCards;
using RaftPipeline.Stages.Models;

namespace RaftPipeline.Stages.Merge;

/// <summary>
/// The <c>merge</c> stage (the notebook's PeftModel.from_pretrained + merge_and_unload + save_pretrained on a 16-bit
/// base): streams W' = W + scaling·B·A into a Hugging Face folder at the artifact root (sharded like
/// save_pretrained, tokenizer and generation config beside it) with a README.md model card, and puts a copy of the
/// adapter under <c>adapter/</c> with its own card; both cards carry the eval table when an eval input is given.
/// </summary>
public sealed class MergeStageExecutor : IStageExecutor
{
    public const string ModelSlot = "model";
    public const string AdapterSlot = "adapter";
    public const string EvalSlot = "eval";
    public const string AdapterFolder = "adapter";

    public string Kind => "merge";

    /// <summary>1: streamed fp32 merge cast to the chosen dtype, transformers' shard sizes, cards with data hashes and eval.</summary>
    public int Version => 1;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        var parameters = context.Parameters<MergeParameters>();
        var baseDir = context.Input(ModelSlot);
        var adapterDir = context.Input(AdapterSlot);
        string? evalDir = context.Inputs.TryGetValue(EvalSlot, out var evals) && evals.Count > 0 ? context.Input(EvalSlot) : null;
        if (ModelSlotLoader.IsQuantized(baseDir))
            throw new InvalidDataException($"stage '{context.Stage.Name}': {baseDir} is a 4-bit model; merge into the 16-bit base folder, as the notebook reloads the base in bf16");
        var baseModel = parameters.BaseModel ?? BaseModelName.Of(baseDir);
        var dtype = parameters.Dtype.ToScalarType();
        var dtypeName = PretrainedSaver.DtypeName(dtype);

        TorchRuntime.EnsureInitialized();
        var output = context.OutputDirectory;
        var result = AdapterMerger.Merge(baseDir, adapterDir, output, ShardSize.Parse(parameters.MaxShardSize), dtype);
        cancellationToken.ThrowIfCancellationRequested();
        SetDtype(Path.Combine(output, "config.json"), dtypeName);
        // The merger copies what it finds; make sure the generation config and tokenizer are there even when the
        // adapter folder holds none of them.
        foreach (var name in ModelFolderFiles.Names)
            if (!File.Exists(Path.Combine(output, name)) && File.Exists(Path.Combine(baseDir, name)))
                File.Copy(Path.Combine(baseDir, name), Path.Combine(output, name));

        var adapterCopy = CopyAdapter(adapterDir, baseDir, Path.Combine(output, AdapterFolder), baseModel);
        // The cards live beside what they describe (README.md at the root, adapter/README.md), and nowhere else: the
        // run folder reaches them through stages/<name>/artifact, where adapter/ really is beside the model card.
        AdapterCard.Write(adapterCopy, baseModel, evalDir, baseDir);
        var facts = CardFacts.Read(adapterCopy, baseModel, evalDir, baseDir);
        MergedModelCard.Write(output, facts, dtypeName, AdapterFolder);

        context.Progress.Log($"merged {result.MergedKeys.Count} weights into {baseModel} ({dtypeName}), " +
            $"{result.WeightFiles.Count} safetensors file(s); adapter copied to {AdapterFolder}/");
        return Task.FromResult(new StageOutcome(new JsonObject
        {
            ["base_model"] = baseModel,
            ["merged_weights"] = result.MergedKeys.Count,
            ["weight_files"] = new JsonArray(result.WeightFiles.Select(f => (JsonNode)Path.GetFileName(f)).ToArray()),
            ["dtype"] = dtypeName,
            ["eval_table"] = evalDir is not null,
        }));
    }

    /// <summary>
    /// The adapter as it would be uploaded: every file of the adapter folder except its old card, adapter_config.json's
    /// base_model_name_or_path set to <paramref name="baseModel"/>, and the tokenizer files (from the adapter when it
    /// has them, else from the base) so AutoTokenizer loads from the folder alone.
    /// </summary>
    static string CopyAdapter(string adapterDir, string baseDir, string to, string baseModel)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(adapterDir))
        {
            var name = Path.GetFileName(file);
            if (name == AdapterCard.FileName) continue;
            File.Copy(file, Path.Combine(to, name), overwrite: true);
        }
        var configPath = Path.Combine(to, AdapterConfig.FileName);
        var config = ModelFolderFiles.ReadObject(configPath);
        config["base_model_name_or_path"] = baseModel;
        ModelFolderFiles.WriteObject(configPath, config);
        foreach (var name in AdapterMerger.TokenizerFiles)
            if (!File.Exists(Path.Combine(to, name)) && File.Exists(Path.Combine(baseDir, name)))
                File.Copy(Path.Combine(baseDir, name), Path.Combine(to, name));
        return to;
    }

    /// <summary>config.json says the saved dtype under both names transformers has used (5.x "dtype", 4.x "torch_dtype").</summary>
    static void SetDtype(string configPath, string dtypeName)
    {
        var config = ModelFolderFiles.ReadObject(configPath);
        config["dtype"] = dtypeName;
        config["torch_dtype"] = dtypeName;
        ModelFolderFiles.WriteObject(configPath, config);
    }
}
