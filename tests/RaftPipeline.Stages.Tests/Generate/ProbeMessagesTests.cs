using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Stages.Generate;

namespace RaftPipeline.Stages.Tests.Generate;

public class ProbeMessagesTests
{
    static readonly GenerateParameters Stage = new() { SystemPrompt = "stage system", UserTemplate = "[{question}] about [{context}]" };

    [Fact]
    public void The_probe_system_overrides_the_stage_system_and_an_empty_one_means_none()
    {
        Assert.Equal("stage system", ProbeMessages.For(new ProbePrompt { Name = "a", Text = "hi" }, Stage).System);
        Assert.Equal("own", ProbeMessages.For(new ProbePrompt { Name = "a", Text = "hi", System = "own" }, Stage).System);
        Assert.Null(ProbeMessages.For(new ProbePrompt { Name = "a", Text = "hi", System = "" }, Stage).System);
        Assert.Null(ProbeMessages.For(new ProbePrompt { Name = "a", Text = "hi" }, Stage with { SystemPrompt = "" }).System);
    }

    [Fact]
    public void The_user_message_is_the_text_or_the_template_filled_or_a_bare_question()
    {
        Assert.Equal("raw {context}", ProbeMessages.For(new ProbePrompt { Name = "a", Text = "raw {context}" }, Stage).User);
        Assert.Equal("[누구?] about [철수는 학생이다.]",
            ProbeMessages.For(new ProbePrompt { Name = "a", Context = "철수는 학생이다.", Question = "누구?" }, Stage).User);
        Assert.Equal("누구?", ProbeMessages.For(new ProbePrompt { Name = "a", Question = "누구?" }, Stage).User);
    }
}
