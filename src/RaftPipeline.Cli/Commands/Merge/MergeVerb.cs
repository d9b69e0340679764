using System.CommandLine;

namespace RaftPipeline.Cli.Commands.Merge;

/// <summary>`dotnet raft merge --base DIR --adapter DIR --out DIR`: the wiring; the work is <see cref="MergeCommand"/>.</summary>
public sealed class MergeVerb : ICliVerb
{
    public Command Create()
    {
        var baseDir = new Option<string>("--base") { Description = "16-bit base model folder (Hugging Face layout)", Required = true };
        var adapter = new Option<string>("--adapter") { Description = "LoRA adapter folder (peft layout)", Required = true };
        var output = new Option<string>("--out") { Description = "folder to write the merged model to", Required = true };
        var maxShard = new Option<long>("--max-shard-bytes") { Description = "largest shard size in bytes", DefaultValueFactory = _ => 5L * 1024 * 1024 * 1024 };
        var command = new Command("merge", "Merge a LoRA adapter into its 16-bit base and write a Hugging Face model folder.")
        {
            baseDir, adapter, output, maxShard,
        };
        command.SetAction(parse => MergeCommand.Run(
            parse.GetValue(baseDir)!, parse.GetValue(adapter)!, parse.GetValue(output)!, parse.GetValue(maxShard),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }
}
