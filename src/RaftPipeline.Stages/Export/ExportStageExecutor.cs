using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Export;
using RaftPipeline.Export.Gguf;
using RaftPipeline.Modeling.Merge;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Stages.Models;

namespace RaftPipeline.Stages.Export;

/// <summary>
/// The <c>export</c> stage: a 16-bit model folder (or base + adapter) out to llama.cpp and Ollama through
/// RaftPipeline.Export's own GGUF writer: NAME-TYPE.gguf, NAME-lora.gguf when the adapter is kept apart, Modelfile
/// and export.json at the artifact root. With an adapter and merge: true, the adapter is merged first with the
/// merge stage's code (fp32 merge, in a scratch folder that is deleted afterwards).
/// </summary>
public sealed class ExportStageExecutor : IStageExecutor
{
    public const string ModelSlot = "model";
    public const string AdapterSlot = "adapter";

    public string Kind => "export";

    /// <summary>1: GGUF v3, llama.cpp's tensor names and Q4_K_M mix, LoRA GGUF, Modelfile with ChatML/Llama 3 templates.</summary>
    public int Version => 1;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        var parameters = context.Parameters<ExportParameters>();
        var type = GgufFileTypes.Parse(parameters.Type, $"stage '{context.Stage.Name}': type");
        var modelDir = context.Input(ModelSlot);
        string? adapterDir = context.Inputs.TryGetValue(AdapterSlot, out var adapters) && adapters.Count > 0 ? context.Input(AdapterSlot) : null;
        if (ModelSlotLoader.IsQuantized(modelDir))
            throw new InvalidDataException($"stage '{context.Stage.Name}': {modelDir} is a 4-bit model; export the 16-bit base or a merge stage's output");

        string? scratch = null;
        try
        {
            var source = modelDir;
            if (adapterDir is not null && parameters.Merge)
            {
                TorchRuntime.EnsureInitialized();
                scratch = Path.Combine(Path.GetTempPath(), $"raft-export-merge-{Guid.NewGuid():N}");
                AdapterMerger.Merge(modelDir, adapterDir, scratch, dtype: TorchSharp.torch.ScalarType.Float32);
                foreach (var name in ModelFolderFiles.Names)
                    if (!File.Exists(Path.Combine(scratch, name)) && File.Exists(Path.Combine(modelDir, name)))
                        File.Copy(Path.Combine(modelDir, name), Path.Combine(scratch, name));
                source = scratch;
                context.Progress.Log($"merged the adapter into {Path.GetFileName(modelDir)} before export");
            }
            var result = GgufExport.Run(new GgufExportRequest(source, context.OutputDirectory, type)
            {
                AdapterFolder = parameters.Merge ? null : adapterDir,
                Name = parameters.Name ?? BaseModelName.Of(modelDir).Split('/')[^1],
            });
            cancellationToken.ThrowIfCancellationRequested();
            context.Progress.Log($"wrote {Path.GetFileName(result.ModelPath)}" +
                (result.AdapterPath is null ? "" : $" and {Path.GetFileName(result.AdapterPath)}") + ", Modelfile, export.json");
            var manifest = (JsonObject)result.Manifest.DeepClone();
            manifest["merged_adapter"] = adapterDir is not null && parameters.Merge;
            return Task.FromResult(new StageOutcome(manifest));
        }
        catch (ExportException e)
        {
            throw new InvalidDataException($"stage '{context.Stage.Name}': {e.Message}", e);
        }
        finally
        {
            if (scratch is not null && Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
    }
}
