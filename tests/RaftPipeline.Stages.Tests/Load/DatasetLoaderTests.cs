using System.Text;
using RaftPipeline.Stages.Load;

namespace RaftPipeline.Stages.Tests.Load;

public class DatasetLoaderTests : IDisposable
{
    private readonly LoadTestFiles _files = new();
    public void Dispose() => _files.Dispose();

    /// <summary>A file of <paramref name="count"/> rows whose context is "c0", "c1", ...</summary>
    private string Numbered(string name, int count, int start = 0)
    {
        var text = new StringBuilder("context,question,cot\n");
        for (int i = start; i < start + count; i++) text.Append($"c{i},q{i},a{i}\n");
        return _files.Utf8(name, text.ToString());
    }

    [Fact]
    public void Shuffle_with_seed_1234_gives_the_golden_order()
    {
        // The same golden permutation as the SplitMix64/Fisher–Yates test: loading adds nothing of its own.
        var result = DatasetLoader.Load([Numbered("ten.csv", 10)], new LoadOptions { Seed = 1234 });
        Assert.Equal(["c0", "c1", "c8", "c6", "c4", "c3", "c7", "c2", "c9", "c5"], result.Train.Select(r => r.Context));
        Assert.Empty(result.Test);
    }

    [Fact]
    public void Shuffle_is_reproducible_and_depends_on_the_seed()
    {
        string path = Numbered("many.csv", 50);
        var a = DatasetLoader.Load([path], new LoadOptions { Seed = 99 }).Train;
        var b = DatasetLoader.Load([path], new LoadOptions { Seed = 99 }).Train;
        var c = DatasetLoader.Load([path], new LoadOptions { Seed = 100 }).Train;
        Assert.Equal(a, b);
        Assert.NotEqual(a.Select(r => r.Context), c.Select(r => r.Context));
        Assert.Equal(a.Select(r => r.Context).Order(), c.Select(r => r.Context).Order());
    }

    [Fact]
    public void Without_shuffle_files_are_concatenated_in_order_with_their_sources()
    {
        var result = DatasetLoader.Load([Numbered("a.csv", 2), Numbered("b.csv", 2, start: 2)], new LoadOptions { Shuffle = false });
        Assert.Equal(
            [("a.csv", 2, "c0"), ("a.csv", 3, "c1"), ("b.csv", 2, "c2"), ("b.csv", 3, "c3")],
            result.Train.Select(r => (r.Source, r.SourceRow, r.Context)));
        Assert.Equal(2, result.Files.Count);
    }

    [Fact]
    public void Test_fraction_is_rounded_up_and_taken_from_the_end_of_the_shuffled_order()
    {
        var result = DatasetLoader.Load([Numbered("ten.csv", 10)], new LoadOptions { Seed = 1234, TestFraction = 0.25 });
        Assert.Equal(["c0", "c1", "c8", "c6", "c4", "c3", "c7"], result.Train.Select(r => r.Context));
        Assert.Equal(["c2", "c9", "c5"], result.Test.Select(r => r.Context)); // ceil(2.5) = 3
    }

    [Fact]
    public void Test_fraction_tolerates_float_error()
    {
        var result = DatasetLoader.Load([Numbered("ten.csv", 10)], new LoadOptions { TestFraction = 0.7 });
        Assert.Equal(7, result.Test.Count); // 0.7 * 10 is 7.000000000000001 in doubles
    }

    [Fact]
    public void Test_count_and_limit_apply_after_shuffling()
    {
        var result = DatasetLoader.Load([Numbered("ten.csv", 10)], new LoadOptions { Seed = 1234, Limit = 5, TestCount = 2 });
        Assert.Equal(["c0", "c1", "c8"], result.Train.Select(r => r.Context));
        Assert.Equal(["c6", "c4"], result.Test.Select(r => r.Context));
    }

    [Fact]
    public void Invalid_split_options_are_errors()
    {
        string path = Numbered("three.csv", 3);
        Assert.Equal("load: set test_fraction or test_count, not both",
            Assert.Throws<DatasetLoadException>(() => DatasetLoader.Load([path], new LoadOptions { TestFraction = 0.1, TestCount = 1 })).Message);
        Assert.Equal("load: test_fraction must be in (0, 1), got 1",
            Assert.Throws<DatasetLoadException>(() => DatasetLoader.Load([path], new LoadOptions { TestFraction = 1 })).Message);
        Assert.Equal("the test split takes 3 of 3 rows and leaves none to train on; lower test_fraction/test_count",
            Assert.Throws<DatasetLoadException>(() => DatasetLoader.Load([path], new LoadOptions { TestCount = 3 })).Message);
        Assert.Equal("load: limit must be at least 1, got 0",
            Assert.Throws<DatasetLoadException>(() => DatasetLoader.Load([path], new LoadOptions { Limit = 0 })).Message);
        Assert.Equal("load: no data files given",
            Assert.Throws<DatasetLoadException>(() => DatasetLoader.Load([], new LoadOptions())).Message);
    }

    [Fact]
    public void Empty_rows_are_counted_across_files()
    {
        var result = DatasetLoader.Load([_files.Utf8("e1.csv", "context,question,cot\n\na,b,c\n"), _files.Utf8("e2.csv", "context,question,cot\n,,\nd,e,f\n")],
            new LoadOptions());
        Assert.Equal((2, 2), (result.RowsRead, result.EmptyRowsSkipped));
    }
}
