using System.CommandLine;

namespace RaftPipeline.Cli.Commands.Template;

/// <summary>`dotnet raft template`: arguments and wiring; the behaviour is <see cref="TemplateCommand"/>.</summary>
public sealed class TemplateVerb : ICliVerb
{
    public Command Create()
    {
        var model = new Option<string?>("--model")
        {
            Description = "Model folder with tokenizer_config.json and/or chat_template.jinja. Default: the embedded Qwen3 files.",
        };
        var messages = new Option<string>("--messages")
        {
            Description = "JSON file: a list of {role, content} objects, or {\"messages\": [...], \"tools\": [...], \"documents\": [...]}.",
            Required = true,
        };
        var addGenerationPrompt = new Option<bool>("--add-generation-prompt")
        {
            Description = "End with the header of an assistant turn (add_generation_prompt=True).",
        };
        var set = new Option<string[]>("--set")
        {
            Description = "Extra template variable NAME=VALUE (repeatable), e.g. enable_thinking=false. VALUE is JSON when it parses, else a string.",
        };
        var name = new Option<string?>("--template-name")
        {
            Description = "A named template of the model (tokenizer_config.json list form or additional_chat_templates/).",
        };

        var command = new Command("template", "Print the prompt a model's chat template renders for a conversation, exactly as transformers' apply_chat_template.")
        {
            model, messages, addGenerationPrompt, set, name,
        };
        command.SetAction(parse => new TemplateCommand(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error).Run(
            new TemplateRequest(
                parse.GetValue(model),
                parse.GetValue(messages)!,
                parse.GetValue(addGenerationPrompt),
                parse.GetValue(set) ?? [],
                parse.GetValue(name))));
        return command;
    }
}
