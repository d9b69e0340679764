using RaftPipeline.Core.Spec.Internal;

namespace RaftPipeline.Core.Tests.Spec;

public class DidYouMeanTests
{
    [Theory]
    [InlineData("learning_rat", "learning_rate")]
    [InlineData("lerning_rate", "learning_rate")]
    [InlineData("laerning_rate", "learning_rate")] // a swap is one edit
    [InlineData("alpha", "lora_alpha")] // a part of a snake_case name
    [InlineData("epoch", "epochs")]
    public void Suggests_the_closest(string word, string expected) =>
        Assert.Equal(expected, DidYouMean.Closest(word, ["learning_rate", "lora_alpha", "lora_dropout", "epochs", "r"]));

    [Theory]
    [InlineData("banana")]
    [InlineData("lora")] // a part shared by two names: no single suggestion
    [InlineData("x")]
    public void Stays_silent_when_nothing_is_close(string word) =>
        Assert.Null(DidYouMean.Closest(word, ["learning_rate", "lora_alpha", "lora_dropout", "epochs"]));
}
