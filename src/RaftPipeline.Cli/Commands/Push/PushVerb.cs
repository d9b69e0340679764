using System.CommandLine;

namespace RaftPipeline.Cli.Commands.Push;

/// <summary>`dotnet raft push --folder DIR --repo org/name [--private] [--revision BRANCH] [--message TEXT]`: the wiring; the work is <see cref="PushCommand"/>.</summary>
public sealed class PushVerb : ICliVerb
{
    public Command Create()
    {
        var folder = new Option<string>("--folder") { Description = "adapter or model folder to upload (its model and tokenizer files and README.md)", Required = true };
        var repo = new Option<string>("--repo") { Description = "Hub repository to push to, org/name (created when missing)", Required = true };
        var revision = new Option<string>("--revision") { Description = "branch to commit to", DefaultValueFactory = _ => "main" };
        var isPrivate = new Option<bool>("--private") { Description = "create the repository private" };
        var message = new Option<string>("--message") { Description = "commit title", DefaultValueFactory = _ => "Upload with RaftPipeline" };
        var command = new Command("push", "Upload an adapter or model folder to a Hugging Face Hub repository as one commit (HF_TOKEN, HF_ENDPOINT).")
        {
            folder, repo, revision, isPrivate, message,
        };
        command.SetAction(parse => PushCommand.Run(
            new PushCommand.Request(parse.GetValue(folder)!, parse.GetValue(repo)!, parse.GetValue(revision)!, parse.GetValue(isPrivate), parse.GetValue(message)!),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }
}
