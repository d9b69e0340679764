using System.Text.Json;
using CsCheck;
using RaftPipeline.Fuzzing;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Templates.Jinja;

namespace RaftPipeline.Text.Tests.Templates;

/// <summary>Every template text either renders or gives a located <see cref="TemplateException"/>; never another exception.</summary>
public class JinjaFuzzTests
{
    static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    static readonly string[] Tokens =
    [
        "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "(", ")", "[", "]", "|", "~", ".", ",", "'", "\"", " if ", " else ",
        " for ", " in ", " endfor ", " endif ", " set ", " macro ", " endmacro ", " not ", " and ", " or ", " is ", " defined ",
        "loop.index0", "messages", "message['content']", "ns.x", "namespace(x=1)", "range(3)", "|length", "|tojson", "|trim",
        "|join(',')", "[::-1]", "[1:]", "0", "-1", "1.5", "None", "raise_exception('x')", "\n", "\\", "\u00e9", "\ud83d\ude00",
    ];

    [Fact]
    public void Mutated_templates_render_or_fail_with_a_located_template_error()
    {
        var qwen = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo(), "src", "RaftPipeline.Text", "Assets", "Qwen3", "tokenizer_config.json")))
            .RootElement.GetProperty("chat_template").GetString()!;
        var seeds = new[]
        {
            qwen,
            "{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] | trim }}{% if not loop.last %}\n{% endif %}{% endfor %}",
            "{% set ns = namespace(n=0) %}{% macro f(x, y=2) %}{{ x * y }}{% endmacro %}{% for i in range(3) %}{% set ns.n = ns.n + f(i) %}{% endfor %}{{ ns.n }}",
        };
        var conversation = ChatConversation.FromMessages([new ChatMessage("system", "be brief"), new ChatMessage("user", "하늘은 무슨 색?")]);
        const string source = "fuzz.jinja";
        Mutations.Of(seeds, Tokens).Fuzz(text =>
        {
            try
            {
                var template = ChatTemplate.FromText(text, source, new Dictionary<string, string> { ["eos_token"] = "<|im_end|>" });
                var output = template.Render(conversation, addGenerationPrompt: true);
                Assert.NotNull(output);
            }
            catch (TemplateException e)
            {
                Assert.Equal(source, e.SourceName);
                Assert.True(e.Line >= 1 && e.Column >= 1, e.Message);
            }
        }, print: t => t);
    }
}
