using RaftPipeline.Text.Templates.Jinja.Runtime;
using RaftPipeline.Text.Templates.Jinja.Syntax;

namespace RaftPipeline.Text.Templates.Jinja;

/// <summary>
/// A parsed Jinja template, rendered the way transformers renders chat templates: jinja2's
/// ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and the loopcontrols extension, plus
/// raise_exception, strftime_now and a json.dumps-based tojson. Anything the interpreter does not implement is a
/// <see cref="TemplateSyntaxException"/> (at parse time) or a <see cref="TemplateRuntimeException"/> (while
/// rendering) naming the construct and its line and column: never silently different output.
/// </summary>
public sealed class JinjaTemplate
{
    readonly IReadOnlyList<Stmt> _body;

    JinjaTemplate(IReadOnlyList<Stmt> body, string sourceName)
    {
        _body = body;
        SourceName = sourceName;
    }

    /// <summary>Where the template came from (a file path, or "tokenizer_config.json:chat_template"); used in errors.</summary>
    public string SourceName { get; }

    /// <exception cref="TemplateSyntaxException">The text is not valid Jinja or uses an unsupported construct.</exception>
    public static JinjaTemplate Parse(string source, string sourceName = "<template>") =>
        new(Parser.Parse(source, sourceName), sourceName);

    /// <summary>
    /// Renders with the given variables, converted by <see cref="PyValue.From"/> (JSON elements, strings, numbers,
    /// booleans, lists and string-keyed dictionaries).
    /// </summary>
    /// <param name="now">The clock for strftime_now; the system clock when null.</param>
    /// <exception cref="TemplateRuntimeException">Rendering failed as it would in jinja2.</exception>
    /// <exception cref="TemplateRaisedException">The template called raise_exception.</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables, Func<DateTime>? now = null)
    {
        var globals = new Scope(null);
        Globals.AddTo(globals, now ?? (() => DateTime.Now));
        var root = new Scope(globals);
        foreach (var (name, value) in variables) root.Set(name, PyValue.From(value));
        return new Interpreter(SourceName).Render(_body, root);
    }
}
