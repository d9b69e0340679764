using System.CommandLine;

namespace RaftPipeline.Cli.Commands.Model;

/// <summary>`raft model init --preset tiny OUT [--seed N]`: the wiring; the work is in <see cref="ModelInitCommand"/>.</summary>
public sealed class ModelVerb : ICliVerb
{
    public Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "Model preset to create (tiny).", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the weights (same seed, same bytes).", DefaultValueFactory = _ => 0UL };
        var output = new Argument<string>("OUT") { Description = "Folder to write the model into (Hugging Face layout)." };
        var init = new Command("init", "Create a small random model with the real Qwen3 tokenizer.") { preset, seed, output };
        init.SetAction(parse => ModelInitCommand.Run(parse.GetValue(preset)!, parse.GetValue(output)!, parse.GetValue(seed),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return new Command("model", "Create and inspect models.") { init };
    }
}
