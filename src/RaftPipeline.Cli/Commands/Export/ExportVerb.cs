using System.CommandLine;

namespace RaftPipeline.Cli.Commands.Export;

/// <summary>`dotnet raft export --model DIR [--adapter DIR [--no-merge]] --type q4_k_m --out DIR`: the wiring; the work is
/// <see cref="ExportCommand"/>.</summary>
public sealed class ExportVerb : ICliVerb
{
    public Command Create()
    {
        var model = new Option<string>("--model") { Description = "16-bit model folder (Hugging Face layout); with --adapter, its base", Required = true };
        var adapter = new Option<string?>("--adapter") { Description = "LoRA adapter folder (peft layout): merged first, or kept apart with --no-merge" };
        var noMerge = new Option<bool>("--no-merge") { Description = "write the adapter as a LoRA GGUF (Modelfile ADAPTER) instead of merging it" };
        var type = new Option<string>("--type") { Description = "f32, f16, bf16, q8_0 or q4_k_m", DefaultValueFactory = _ => "q8_0" };
        var name = new Option<string?>("--name") { Description = "general.name and the files' stem (default: the model folder's name)" };
        var output = new Option<string>("--out") { Description = "folder to write the GGUF file(s), Modelfile and export.json to", Required = true };
        var command = new Command("export", "Export a model (or base + LoRA adapter) as GGUF for llama.cpp and Ollama, with a Modelfile.")
        {
            model, adapter, noMerge, type, name, output,
        };
        command.SetAction(parse => ExportCommand.Run(
            parse.GetValue(model)!, parse.GetValue(adapter), !parse.GetValue(noMerge), parse.GetValue(type)!, parse.GetValue(name),
            parse.GetValue(output)!, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }
}
