using System.CommandLine;
using System.Text.Json;
using RaftPipeline.Cli;
using RaftPipeline.Cli.Tests.Support;

namespace RaftPipeline.Cli.Tests.Commands;

public sealed class TemplateCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("raft-template-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);


    static readonly string Fixtures = Path.Combine(RepoPaths.Root, "tests", "RaftPipeline.Text.Tests", "Fixtures", "chat_templates");

    static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = RaftCli.BuildRoot().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>The rendering transformers produced for one fixture case.</summary>
    static string Transformers(string id)
    {
        var path = Path.Combine(Fixtures, "expected.jsonl");
        Assert.True(File.Exists(path), $"missing {path}: run Fixtures/chat_templates/generate.py (see its docstring)");
        foreach (var line in File.ReadLines(path))
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.GetProperty("id").GetString() == id) return doc.RootElement.GetProperty("output").GetString()!;
        }
        throw new InvalidOperationException($"no case {id} in {path}");
    }

    [Fact]
    public void Prints_exactly_what_transformers_renders_with_the_embedded_qwen3_template()
    {
        var (exit, stdout, stderr) = Run("template", "--messages", Path.Combine(Fixtures, "conversations", "multi_turn.json"),
            "--add-generation-prompt", "--set", "enable_thinking=false");
        Assert.Equal("", stderr);
        Assert.Equal(0, exit);
        Assert.Equal(Transformers("qwen3|(model)|multi_turn.json|agp=True|{\"enable_thinking\": false}"), stdout);
        Assert.EndsWith("<think>\n\n</think>\n\n", stdout); // nothing appended after the template's own text
    }

    [Fact]
    public void Uses_the_model_folders_chat_template_jinja()
    {
        var (exit, stdout, _) = Run("template", "--model", Path.Combine(Fixtures, "models", "bos_model"),
            "--messages", Path.Combine(Fixtures, "conversations", "korean_crlf.json"));
        Assert.Equal(0, exit);
        Assert.Equal(Transformers("bos_model|(model)|korean_crlf.json|agp=False|{}"), stdout);
    }

    [Fact]
    public void A_messages_file_that_is_not_a_list_of_role_content_objects_is_bad_input()
    {
        var path = Path.Combine(_dir, "conv.json");
        File.WriteAllText(path, """[{"role": "user", "content": "hi"}, "just text"]""");
        var (exit, stdout, stderr) = Run("template", "--messages", path);
        Assert.Equal(RaftCli.ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains(path, stderr);
        Assert.Contains("[1]", stderr);
        Assert.Contains("{role, content}", stderr);
    }

    [Fact]
    public void A_template_syntax_error_names_the_file_line_and_column()
    {
        var model = Path.Combine(_dir, "model");
        Directory.CreateDirectory(model);
        File.WriteAllText(Path.Combine(model, "chat_template.jinja"), "{% for m in messages %}\n{{ m.content }\n{% endfor %}");
        var conv = Path.Combine(_dir, "conv.json");
        File.WriteAllText(conv, """[{"role": "user", "content": "hi"}]""");
        var (exit, stdout, stderr) = Run("template", "--model", model, "--messages", conv);
        Assert.Equal(RaftCli.ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains(Path.Combine(model, "chat_template.jinja") + ":2:", stderr);
    }

    [Fact]
    public void Raise_exception_in_the_template_is_bad_input_with_its_message()
    {
        var conv = Path.Combine(_dir, "conv.json");
        File.WriteAllText(conv, """[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]""");
        var model = Path.Combine(_dir, "model");
        Directory.CreateDirectory(model);
        File.Copy(Path.Combine(Fixtures, "templates", "mistral.jinja"), Path.Combine(model, "chat_template.jinja"));
        var (exit, _, stderr) = Run("template", "--model", model, "--messages", conv);
        Assert.Equal(RaftCli.ExitCodes.BadInput, exit);
        Assert.Contains("After the optional system message, roles must alternate user, assistant, user, ...", stderr);
    }

    [Fact]
    public void A_set_without_equals_is_bad_input()
    {
        var (exit, _, stderr) = Run("template", "--messages", Path.Combine(Fixtures, "conversations", "user_only.json"), "--set", "enable_thinking");
        Assert.Equal(RaftCli.ExitCodes.BadInput, exit);
        Assert.Contains("NAME=VALUE", stderr);
    }
}
