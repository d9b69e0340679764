using System.Text.Json;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Templates.Jinja;

namespace RaftPipeline.Cli.Commands.Template;

public sealed record TemplateRequest(string? Model, string Messages, bool AddGenerationPrompt, IReadOnlyList<string> Set, string? TemplateName);

/// <summary>
/// Renders a conversation with a model's chat template and writes exactly the rendered text to stdout (no newline
/// added), so it can be diffed against transformers' output. Every error goes to stderr with exit code 2.
/// </summary>
public sealed class TemplateCommand(TextWriter output, TextWriter error)
{
    public int Run(TemplateRequest request)
    {
        try
        {
            var extra = ParseSettings(request.Set);
            var template = request.Model is null ? ChatTemplate.FromEmbeddedQwen3() : ChatTemplate.FromModelFolder(request.Model);
            var conversation = ChatConversation.Load(request.Messages);
            var text = template.Render(conversation, request.AddGenerationPrompt, extra, request.TemplateName);
            output.Write(text);
            output.Flush();
            return RaftCli.ExitCodes.Ok;
        }
        catch (Exception ex) when (ex is ChatInputException or TemplateException or SettingException)
        {
            error.WriteLine($"error: {ex.Message}");
            return RaftCli.ExitCodes.BadInput;
        }
        catch (ArgumentException ex) when (request.TemplateName is not null)
        {
            error.WriteLine($"error: --template-name: {ex.Message}");
            return RaftCli.ExitCodes.BadInput;
        }
    }

    sealed class SettingException(string message) : Exception(message);

    /// <summary>NAME=VALUE pairs; VALUE is read as JSON (false, 3, "x", [..]) or Python's True/False/None, else taken as text.</summary>
    static Dictionary<string, object?> ParseSettings(IReadOnlyList<string> settings)
    {
        var extra = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var s in settings)
        {
            var eq = s.IndexOf('=');
            if (eq <= 0) throw new SettingException($"--set {s}: expected NAME=VALUE, e.g. --set enable_thinking=false");
            var name = s[..eq].Trim();
            if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || char.IsAsciiDigit(name[0]))
                throw new SettingException($"--set {s}: '{name}' is not a template variable name (letters, digits, _)");
            extra[name] = ParseValue(s[(eq + 1)..]);
        }
        return extra;
    }

    static object? ParseValue(string value)
    {
        switch (value)
        {
            case "True": return true;
            case "False": return false;
            case "None": return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(value);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return value;
        }
    }
}
