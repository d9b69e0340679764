using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Hub;
using RaftPipeline.Hub.Download;
using RaftPipeline.Hub.Upload;

namespace RaftPipeline.Stages.Push;

/// <summary>
/// The <c>push</c> stage: uploads an adapter or model folder (its model and tokenizer files and README.md) to a Hub
/// repository as one commit, as the notebook's push_to_hub does, and records the commit in its artifact
/// (<c>push.json</c>). The one stage whose effect lies outside the cache: its key is the repository, the branch and
/// the content pushed, so the same content is pushed once and a retrained adapter is pushed again. Where to push
/// and the token come from the environment at the edge (HF_ENDPOINT, HF_TOKEN or the token file), as for Hub inputs,
/// and are not part of the key.
/// </summary>
public sealed class PushStageExecutor(Func<IHubProgress, HubUploader>? uploader = null) : IStageExecutor
{
    public const string RecordFile = "push.json";

    readonly Func<IHubProgress, HubUploader> createUploader = uploader ?? (progress => new HubUploader(HubSettings.FromEnvironment(), progress));

    public string Kind => "push";

    public int Version => 1;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        var parameters = context.Parameters<PushParameters>();
        var folder = context.Input("folder");
        var files = PushResult.ModelFolderFiles(folder);
        context.Progress.Log($"pushing {files.Count} files of {folder} to {parameters.Repo} ({parameters.Revision}): {string.Join(", ", files)}");
        var result = createUploader(new StageHubProgress(context.Progress)).Push(
            new PushRequest(parameters.Repo, folder, parameters.CommitMessage, parameters.Revision, parameters.Private, Files: files),
            cancellationToken);

        var record = new JsonObject
        {
            ["repo"] = result.RepoId,
            ["revision"] = parameters.Revision,
            ["commit"] = result.CommitOid,
            ["url"] = result.CommitUrl,
            ["files"] = new JsonArray(result.Files.Select(f => (JsonNode)new JsonObject
            {
                ["path"] = f.Path, ["size"] = f.Size, ["sha256"] = f.Sha256, ["lfs"] = f.Lfs,
            }).ToArray()),
        };
        File.WriteAllText(Path.Combine(context.OutputDirectory, RecordFile), record.ToJsonString(new() { WriteIndented = true }) + "\n");
        return Task.FromResult(new StageOutcome(new JsonObject
        {
            ["repo"] = result.RepoId,
            ["commit"] = result.CommitOid,
            ["url"] = result.CommitUrl,
            ["files"] = result.Files.Count,
            ["uploaded_lfs_files"] = result.Uploaded,
        }));
    }

    /// <summary>Hub notices into the stage's log.</summary>
    sealed class StageHubProgress(IStageProgress progress) : IHubProgress
    {
        public void Note(string message) => progress.Log(message);

        public void Transfer(HubTransfer transfer)
        {
            if (transfer.Finished) progress.Log($"uploaded {transfer.File} ({transfer.Total:N0} bytes)");
        }
    }
}
