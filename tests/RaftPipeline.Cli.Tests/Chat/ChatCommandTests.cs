using RaftPipeline.Modeling.Chat;
using RaftPipeline.Cli.Commands.Chat;
using RaftPipeline.Cli.Commands.Generate;
using RaftPipeline.Cli.Tests.Generate;
using RaftPipeline.Core.Spec;
using RaftPipeline.Text.Templates;

namespace RaftPipeline.Cli.Tests.Chat;

[Collection(TinyModelCollection.Name)]
public sealed class ChatCommandTests(TinyModelFixture tiny)
{
    (int Exit, string Out, string Err, List<ChatTurn> Turns) Chat(string stdin, string? system = null, int maxNewTokens = 4)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var turns = new List<ChatTurn>();
        var command = new ChatCommand(new StringReader(stdin), output, error, interactive: false) { TurnCompleted = turns.Add };
        var exit = command.Run(new ChatRequest(tiny.ModelDir, null, system, new SamplingRequest(MaxNewTokens: maxNewTokens, Greedy: true), DeviceKind.Cpu));
        return (exit, output.ToString().Replace("\r\n", "\n"), error.ToString(), turns);
    }

    [Fact]
    public void The_second_prompt_holds_the_first_question_and_answer()
    {
        var (exit, stdout, stderr, turns) = Chat("안녕하세요?\n두 번째 질문입니다.\n");
        Assert.Equal("", stderr);
        Assert.Equal(0, exit);
        Assert.Equal(2, turns.Count);
        var first = turns[0].Answer;
        Assert.NotEqual("", first); // else "contains the answer" below would prove nothing

        var expected = ChatTemplate.FromModelFolder(tiny.ModelDir).Render(ChatConversation.FromMessages(
        [
            new ChatMessage("user", "안녕하세요?"),
            new ChatMessage("assistant", first),
            new ChatMessage("user", "두 번째 질문입니다."),
        ]), addGenerationPrompt: true);
        Assert.Equal(expected, turns[1].PromptText);
        Assert.Contains("<|im_start|>assistant\n" + first + "<|im_end|>", turns[1].PromptText);
        Assert.Equal(tiny.Tokenizer.Encode(expected, addSpecialTokens: false), turns[1].PromptIds);
        Assert.Equal(tiny.DirectGenerate(turns[1].PromptIds, TinyModelFixture.Options(4)), turns[1].NewIds);

        // stdout is the streamed answers, one per line, and they are what the history kept.
        Assert.Equal(turns[0].Answer + "\n" + turns[1].Answer + "\n", stdout);
        Assert.Equal(StreamingDecoder.Decode(tiny.Tokenizer, turns[0].NewIds), first);
    }

    [Fact]
    public void A_multi_line_message_is_one_user_turn_with_its_newlines()
    {
        var (exit, _, _, turns) = Chat("\"\"\"\n첫 줄\n둘째 줄\n\"\"\"\n");
        Assert.Equal(0, exit);
        var turn = Assert.Single(turns);
        Assert.Contains("<|im_start|>user\n첫 줄\n둘째 줄<|im_end|>\n", turn.PromptText);
    }

    [Fact]
    public void Reset_forgets_the_history_but_keeps_the_system_message()
    {
        var (exit, _, _, turns) = Chat("같은 질문\n/reset\n같은 질문\n", system: "짧게 답하세요.");
        Assert.Equal(0, exit);
        Assert.Equal(2, turns.Count);
        Assert.Equal(turns[0].PromptIds, turns[1].PromptIds);
        Assert.StartsWith("<|im_start|>system\n짧게 답하세요.<|im_end|>\n<|im_start|>user\n같은 질문<|im_end|>\n", turns[1].PromptText);
    }

    [Fact]
    public void Exit_ends_the_session_and_blank_lines_are_ignored()
    {
        var (exit, _, _, turns) = Chat("\n   \nfirst\n/exit\nnever asked\n");
        Assert.Equal(0, exit);
        Assert.Single(turns);
        Assert.Contains("first", turns[0].PromptText);
    }

    [Fact]
    public void Empty_input_ends_at_once()
    {
        var (exit, stdout, _, turns) = Chat("");
        Assert.Equal(0, exit);
        Assert.Equal("", stdout);
        Assert.Empty(turns);
    }

    [Fact]
    public void The_verb_reads_redirected_stdin()
    {
        var direct = Chat("hello there\nand again\n", maxNewTokens: 3);
        Assert.Equal(2, direct.Turns.Count);
        var saved = System.Console.In;
        try
        {
            System.Console.SetIn(new StringReader("hello there\nand again\n"));
            var (exit, stdout, stderr) = TinyModelFixture.Raft("chat", "--model", tiny.ModelDir, "--device", "cpu", "--greedy", "--max-new-tokens", "3");
            Assert.Equal("", stderr);
            Assert.Equal(0, exit);
            Assert.Equal(direct.Out, stdout.Replace("\r\n", "\n"));
        }
        finally
        {
            System.Console.SetIn(saved);
        }
    }

    [Fact]
    public void Missing_model_folder_is_bad_input()
    {
        var missing = Path.Combine(tiny.Root, "no-model");
        var (exit, stdout, stderr) = TinyModelFixture.Raft("chat", "--model", missing, "--device", "cpu");
        Assert.Equal(RaftCli.ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains($"--model: folder not found: {missing}", stderr);
    }
}
