using RaftPipeline.Cli.Console;
using RaftPipeline.Hub;
using RaftPipeline.Hub.Upload;

namespace RaftPipeline.Cli.Commands.Push;

/// <summary>The push verb's behaviour: check the folder and the id, push one commit, print its address.</summary>
public static class PushCommand
{
    public sealed record Request(string Folder, string Repo, string Revision, bool Private, string Message);

    public static int Run(Request request, TextWriter output, TextWriter error)
    {
        if (!Directory.Exists(request.Folder))
        {
            error.WriteLine($"--folder: folder not found: {request.Folder}");
            return RaftCli.ExitCodes.BadInput;
        }
        if (!HubModelId.TryParse(request.Repo, out var id) || id.Revision != HubModelId.DefaultRevision)
        {
            error.WriteLine($"--repo: expected a Hugging Face repository id org/name, got '{request.Repo}'");
            return RaftCli.ExitCodes.BadInput;
        }
        var files = PushResult.ModelFolderFiles(request.Folder);
        if (files.Count == 0)
        {
            error.WriteLine($"--folder: {request.Folder} holds no model, adapter or tokenizer files and no README.md; nothing to push");
            return RaftCli.ExitCodes.BadInput;
        }
        try
        {
            var result = new HubUploader(HubSettings.FromEnvironment(), new HubProgressRenderer(error))
                .Push(new PushRequest(id.RepoId, Path.GetFullPath(request.Folder), request.Message, request.Revision, request.Private, Files: files));
            output.WriteLine($"pushed {result.Files.Count} files to {result.RepoId}: commit {result.CommitOid}");
            output.WriteLine(result.CommitUrl);
            return RaftCli.ExitCodes.Ok;
        }
        catch (HubException e)
        {
            error.WriteLine($"push to {id.RepoId}: {e.Message}");
            return e.Kind is HubErrorKind.Network or HubErrorKind.Integrity ? RaftCli.ExitCodes.Failed : RaftCli.ExitCodes.BadInput;
        }
    }
}
