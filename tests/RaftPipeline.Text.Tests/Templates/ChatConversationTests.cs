using RaftPipeline.Text.Templates;

namespace RaftPipeline.Text.Tests.Templates;

/// <summary>Messages files: what loads, and bad input that names the file, the position and what was expected.</summary>
public class ChatConversationTests
{
    static ChatInputException Bad(string json) =>
        Assert.Throws<ChatInputException>(() => ChatConversation.Parse(json, "conv.json"));

    [Fact]
    public void A_list_of_role_content_objects_loads_with_extra_fields_passing_through()
    {
        var c = ChatConversation.Parse("""
            [{"role": "user", "content": "hi"},
             {"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]},
             {"role": "assistant", "content": "ok", "reasoning_content": "because"}]
            """, "conv.json");
        Assert.Equal(3, c.Count);
        var template = ChatTemplate.FromText(
            "{% for m in messages %}{{ m.role }}:{{ m.content }}|{{ m.tool_calls[0].function.arguments | tojson if m.tool_calls }}|{{ m.reasoning_content }};{% endfor %}",
            "t.jinja");
        Assert.Equal("user:hi||;assistant:None|{\"x\": 1}|;assistant:ok||because;", template.Render(c));
    }

    [Fact]
    public void An_object_form_carries_tools_and_documents()
    {
        var c = ChatConversation.Parse("""{"messages": [{"role": "user", "content": "q"}], "tools": [{"name": "t"}], "documents": [{"text": "d"}]}""", "conv.json");
        var template = ChatTemplate.FromText("{{ tools[0].name }} {{ documents[0].text }} {{ messages | length }}", "t.jinja");
        Assert.Equal("t d 1", template.Render(c));
    }

    [Theory]
    [InlineData("[{\"role\": \"user\", \"content\": \"hi\"}, 42]", "[1]", "is a number; expected a {role, content} object")]
    [InlineData("[{\"content\": \"hi\"}]", "[0]", "has no \"role\"")]
    [InlineData("[{\"role\": 3, \"content\": \"hi\"}]", "[0].role", "is a number; expected a string")]
    [InlineData("[{\"role\": \"user\", \"content\": 5}]", "[0].content", "expected a string, null or a list of content parts")]
    [InlineData("[{\"role\": \"user\"}]", "[0]", "has no \"content\"")]
    [InlineData("\"hello\"", "$", "the file holds a string; expected a list of {role, content} objects")]
    [InlineData("{\"msgs\": []}", "$", "has no \"messages\" key")]
    [InlineData("{\"messages\": [], \"extra\": 1}", "extra", "unexpected key")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": {}}", "tools", "expected a list")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}, 1]}", "messages[1]", "expected a {role, content} object")]
    public void Bad_messages_name_the_position_and_what_was_expected(string json, string position, string detail)
    {
        var e = Bad(json);
        Assert.Equal("conv.json", e.File);
        Assert.Equal(position, e.Position);
        Assert.Contains(detail, e.Detail);
        Assert.StartsWith($"conv.json: {position}: ", e.Message);
    }

    [Fact]
    public void Invalid_JSON_names_the_line_and_column()
    {
        var e = Bad("[\n  {\"role\": \"user\", \"content\": \"hi\"},\n  {\"role\": }\n]");
        Assert.Equal("line 3, column 12", e.Position);
        Assert.Contains("not valid JSON", e.Detail);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-raft-conv.json");
        var e = Assert.Throws<ChatInputException>(() => ChatConversation.Load(path));
        Assert.Equal(path, e.File);
        Assert.Contains("not found", e.Detail);
    }

    [Fact]
    public void An_empty_conversation_is_refused_as_transformers_does()
    {
        var e = Assert.Throws<ChatInputException>(() => ChatTemplate.FromText("x", "t.jinja").Render(ChatConversation.Parse("[]", "conv.json")));
        Assert.Equal("Cannot apply chat template to an empty conversation. Provide at least one message.", e.Detail);
    }
}
