using RaftPipeline.Stages.Generate;
using RaftPipeline.Text.Templates;

namespace RaftPipeline.Stages.Tests.Generate;

public class ChatPromptRendererTests
{
    static readonly ChatPromptRenderer Qwen3 = new(ChatTemplate.FromEmbeddedQwen3());

    [Fact]
    public void The_prompt_opens_the_assistant_turn_without_a_think_block()
    {
        Assert.Equal("<|im_start|>system\n무례하게.<|im_end|>\n<|im_start|>user\n질문?<|im_end|>\n<|im_start|>assistant\n",
            Qwen3.Prompt("무례하게.", "질문?"));
        Assert.Equal("<|im_start|>user\n질문?<|im_end|>\n<|im_start|>assistant\n", Qwen3.Prompt(null, "질문?"));
        Assert.Equal(Qwen3.Prompt(null, "질문?"), Qwen3.Prompt("", "질문?"));
    }

    [Fact]
    public void The_reference_continuation_is_the_answer_and_end_of_turn_without_the_empty_think_block()
    {
        // Qwen3's template writes "<think>\n\n</think>\n\n" before the last answer; training texts have it stripped.
        Assert.Equal("그것도 몰라? 여기 봐.<|im_end|>\n", Qwen3.ReferenceContinuation("무례하게.", "질문?", "그것도 몰라? 여기 봐."));
    }

    [Fact]
    public void A_template_whose_answered_chat_does_not_extend_the_prompt_is_refused()
    {
        var odd = new ChatPromptRenderer(ChatTemplate.FromText(
            "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}{% if add_generation_prompt %}<ASSISTANT>{% endif %}", "odd.jinja"));
        var e = Assert.Throws<InvalidOperationException>(() => odd.ReferenceContinuation(null, "q", "a"));
        Assert.StartsWith("the chat template renders the answered conversation without the generation prompt as its prefix", e.Message);
    }

    [Theory]
    [InlineData("<think>\n\n</think>\n\n답", "답")]
    [InlineData("\n<think>\n\n</think>\n답", "답")]
    [InlineData("<think>생각</think>답", "<think>생각</think>답")] // a real thought is kept
    [InlineData("답", "답")]
    public void A_leading_empty_think_block_is_dropped_from_answers(string answer, string expected) =>
        Assert.Equal(expected, ChatPromptRenderer.WithoutEmptyThink(answer));
}
