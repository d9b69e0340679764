using RaftPipeline.Cli.Commands.Chat;

namespace RaftPipeline.Cli.Tests.Chat;

public sealed class ChatInputTests
{
    static List<string> ReadAll(string stdin, Action<string>? editor = null, StringWriter? error = null)
    {
        var input = new StringReader(stdin);
        var messages = new List<string>();
        while (ChatInput.ReadMessage(input, new StringWriter(), error ?? new StringWriter(), interactive: false, editor) is { } m) messages.Add(m);
        return messages;
    }

    [Fact]
    public void A_fence_line_starts_and_ends_a_multi_line_message()
    {
        var messages = ReadAll("first\n\"\"\"\nContext: 한강은 황해로 흐른다.\n\n---\nQuestion: 어디로?\n  \"\"\"  \nlast\n");
        Assert.Equal(["first", "Context: 한강은 황해로 흐른다.\n\n---\nQuestion: 어디로?", "last"], messages);
    }

    [Fact]
    public void The_end_of_input_ends_an_open_multi_line_message()
    {
        Assert.Equal(["a\nb"], ReadAll("\"\"\"\na\nb\n"));
    }

    [Fact]
    public void Edit_sends_what_the_editor_saved()
    {
        string? edited = null;
        var messages = ReadAll("/edit\n", file =>
        {
            edited = file;
            Assert.Equal("", File.ReadAllText(file));
            File.WriteAllText(file, "line one\nline two\n");
        });
        Assert.Equal(["line one\nline two"], messages);
        Assert.False(File.Exists(edited)); // the temporary file is removed
    }

    [Fact]
    public void Edit_without_an_editor_says_what_to_do_and_sends_nothing()
    {
        var error = new StringWriter();
        var messages = ReadAll("/edit\n", _ => throw new InvalidOperationException("set VISUAL or EDITOR to your editor"), error);
        Assert.Equal([""], messages); // an empty message: the chat loop skips it
        Assert.Contains("raft chat: /edit: set VISUAL or EDITOR", error.ToString());
    }
}
