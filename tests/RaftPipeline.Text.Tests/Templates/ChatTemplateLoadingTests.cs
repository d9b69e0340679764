using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Templates.Jinja;

namespace RaftPipeline.Text.Tests.Templates;

/// <summary>Where a model folder's template and special tokens come from.</summary>
public sealed class ChatTemplateLoadingTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("raft-chat-template-").FullName;
    static readonly ChatConversation Hello = ChatConversation.FromMessages([new ChatMessage("user", "hello")]);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void The_embedded_qwen3_template_matches_the_committed_tokenizer_config()
    {
        var embedded = ChatTemplate.FromEmbeddedQwen3();
        var folder = ChatTemplate.FromModelFolder(RepoPaths.Qwen3Assets);
        Assert.Equal(folder.Render(Hello, addGenerationPrompt: true), embedded.Render(Hello, addGenerationPrompt: true));
        Assert.Equal("<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n", embedded.Render(Hello, addGenerationPrompt: true));
        Assert.Equal("<|im_end|>", embedded.SpecialTokens["eos_token"]);
        Assert.False(embedded.SpecialTokens.ContainsKey("bos_token")); // null in the config: undefined in the template
    }

    [Fact]
    public void Chat_template_jinja_wins_over_tokenizer_config()
    {
        Write("tokenizer_config.json", """{"chat_template": "from config", "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>"}""");
        Write("chat_template.jinja", "from file {{ bos_token }}{{ eos_token }}\n");
        Assert.Equal("from file <s></s>", ChatTemplate.FromModelFolder(_dir).Render(Hello));
    }

    [Fact]
    public void A_list_of_named_templates_uses_default_or_tool_use_when_tools_are_given()
    {
        Write("tokenizer_config.json", """
            {"chat_template": [{"name": "default", "template": "plain"}, {"name": "tool_use", "template": "tools={{ tools | length }}"},
                               {"name": "rag", "template": "rag"}]}
            """);
        var template = ChatTemplate.FromModelFolder(_dir);
        Assert.Equal("plain", template.Render(Hello));
        var withTools = ChatConversation.Parse("""{"messages": [{"role": "user", "content": "x"}], "tools": [{}, {}]}""", "c.json");
        Assert.Equal("tools=2", template.Render(withTools));
        Assert.Equal("rag", template.Render(Hello, templateName: "rag"));
    }

    [Fact]
    public void Extra_variables_reach_the_template_and_override_special_tokens()
    {
        var template = ChatTemplate.FromText("{{ enable_thinking }} {{ eos_token }}", "t.jinja", new Dictionary<string, string> { ["eos_token"] = "E" });
        Assert.Equal("False E", template.Render(Hello, extra: new Dictionary<string, object?> { ["enable_thinking"] = false }));
        Assert.Equal("True X", template.Render(Hello, extra: new Dictionary<string, object?> { ["enable_thinking"] = true, ["eos_token"] = "X" }));
    }

    [Fact]
    public void A_folder_without_any_template_is_an_error_naming_the_key()
    {
        var config = Write("tokenizer_config.json", """{"eos_token": "</s>"}""");
        var e = Assert.Throws<ChatInputException>(() => ChatTemplate.FromModelFolder(_dir));
        Assert.Equal(config, e.File);
        Assert.Equal("chat_template", e.Position);
    }

    [Fact]
    public void A_chat_template_that_is_neither_string_nor_list_is_an_error()
    {
        Write("tokenizer_config.json", """{"chat_template": 42}""");
        var e = Assert.Throws<ChatInputException>(() => ChatTemplate.FromModelFolder(_dir));
        Assert.Contains("expected a string or a list of {name, template} objects", e.Detail);
    }

    [Fact]
    public void A_syntax_error_in_the_config_template_names_the_config_file()
    {
        var config = Write("tokenizer_config.json", """{"chat_template": "{% if x %}never closed"}""");
        var e = Assert.Throws<TemplateSyntaxException>(() => ChatTemplate.FromModelFolder(_dir));
        Assert.Equal($"{config}:chat_template", e.SourceName);
    }

    [Fact]
    public void Strftime_now_uses_the_given_clock()
    {
        var template = ChatTemplate.FromText("{{ strftime_now('%d %b %Y') }}", "t.jinja");
        Assert.Equal("05 Mar 2026", template.Render(Hello, now: () => new DateTime(2026, 3, 5)));
    }
}
