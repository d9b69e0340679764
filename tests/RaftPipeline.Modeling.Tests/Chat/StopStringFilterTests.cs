using RaftPipeline.Modeling.Chat;

namespace RaftPipeline.Modeling.Tests.Chat;

public sealed class StopStringFilterTests
{
    [Fact]
    public void Text_before_the_stop_string_is_released_and_the_stop_string_never_is()
    {
        var filter = new StopStringFilter(["END", "\n\n"]);
        var released = string.Concat(new[] { "Hello", " wor", "ld E", "N", "D and more" }.Select(filter.Push)) + filter.Flush();
        Assert.Equal("Hello world ", released);
        Assert.True(filter.Stopped);
    }

    [Fact]
    public void A_possible_beginning_is_held_back_until_it_is_not_one()
    {
        var filter = new StopStringFilter(["STOP"]);
        Assert.Equal("ab", filter.Push("abST"));   // "ST" could begin STOP
        Assert.Equal("STx", filter.Push("x"));     // "STx" cannot
        Assert.Equal("", filter.Push("S"));
        Assert.Equal("S", filter.Flush());         // the end: nothing can follow
        Assert.False(filter.Stopped);
    }

    [Fact]
    public void Without_stop_strings_everything_passes_at_once()
    {
        var filter = new StopStringFilter([]);
        Assert.Equal("그것도 몰라?", filter.Push("그것도 몰라?"));
        Assert.Equal("", filter.Flush());
    }
}
