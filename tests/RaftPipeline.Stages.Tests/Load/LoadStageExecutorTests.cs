using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Stages.Load;
using RaftPipeline.Stages.Tests.TestSupport;

namespace RaftPipeline.Stages.Tests.Load;

public class LoadStageExecutorTests
{
    private static readonly string DataFolder = Path.Combine(RepoRoot.Path, "examples", "data");
    private static readonly string[] NotebookFiles =
        [Path.Combine(DataFolder, "RAG_Data_full.csv"), Path.Combine(DataFolder, "RAG_Data_full_neg.csv")];

    [Fact]
    public async Task Loads_the_notebooks_two_files_into_train_and_test_jsonl_with_metrics()
    {
        using var temp = new TempFolder();
        var parameters = new LoadParameters { Encoding = TextEncoding.Cp949, ShuffleSeed = 1234, TestSize = 0.1 };
        var context = StageContexts.Create(temp, "load", parameters, new Dictionary<string, IReadOnlyList<string>> { ["files"] = NotebookFiles });

        var outcome = await new LoadStageExecutor().RunAsync(context, CancellationToken.None);

        var train = LoadArtifact.ReadTrain(context.OutputDirectory);
        var test = LoadArtifact.ReadTest(context.OutputDirectory);
        int total = (int)outcome.Metrics["rows_read"]!;
        Assert.Equal(total, train.Count + test.Count);
        Assert.Equal((int)Math.Ceiling(total * 0.1), test.Count);
        Assert.Equal(train.Count, (int)outcome.Metrics["rows_train"]!);
        Assert.Equal(train.Count(r => r.Answerable), (int)outcome.Metrics["answerable_train"]!);
        var files = outcome.Metrics["files"]!.AsArray();
        Assert.Equal(["RAG_Data_full.csv", "RAG_Data_full_neg.csv"], files.Select(f => (string)f!["file"]!));
        Assert.All(files, f => Assert.Equal("cp949", (string)f!["encoding"]!));
        Assert.Contains("\"file\": \"RAG_Data_full.csv\"", File.ReadAllText(Path.Combine(context.OutputDirectory, LoadArtifact.FilesFile)));
        Assert.Contains(((RecordingProgress)context.Progress).Lines, l => l.StartsWith("RAG_Data_full_neg.csv: ", StringComparison.Ordinal) && l.Contains("(0 answerable)"));
    }

    [Fact]
    public async Task The_artifact_is_the_same_on_every_run()
    {
        using var a = new TempFolder();
        using var b = new TempFolder();
        var parameters = new LoadParameters { Encoding = TextEncoding.Cp949 };
        var inputs = new Dictionary<string, IReadOnlyList<string>> { ["files"] = NotebookFiles };
        var first = StageContexts.Create(a, "load", parameters, inputs, seed: 77);
        var second = StageContexts.Create(b, "load", parameters, inputs, seed: 77);
        await new LoadStageExecutor().RunAsync(first, CancellationToken.None);
        await new LoadStageExecutor().RunAsync(second, CancellationToken.None);
        foreach (var name in new[] { LoadArtifact.TrainFile, LoadArtifact.TestFile, LoadArtifact.FilesFile })
            Assert.Equal(File.ReadAllBytes(Path.Combine(first.OutputDirectory, name)), File.ReadAllBytes(Path.Combine(second.OutputDirectory, name)));
    }

    [Fact]
    public async Task Files_json_gives_the_sha256_of_each_files_bytes()
    {
        using var temp = new TempFolder();
        const string text = "context,question,cot\n서울은 한국의 수도이다.,한국의 수도는?,그것도 몰라? 여기 있잖아.\n";
        // Expected values from coreutils: printf '<text>' | sha256sum, and | iconv -t cp949 | sha256sum.
        string utf8 = temp.File("a.csv", Encodings.ToUtf8(text));
        string cp949 = temp.File("b.csv", Encodings.ToCp949(text));
        var context = StageContexts.Create(temp, "load", new LoadParameters { Shuffle = false },
            new Dictionary<string, IReadOnlyList<string>> { ["files"] = [utf8, cp949] });

        await new LoadStageExecutor().RunAsync(context, CancellationToken.None);

        var files = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(context.OutputDirectory, LoadArtifact.FilesFile)))!.AsArray();
        Assert.Equal(
            [
                ("a.csv", "c3fd697c8a78c2fc9facfec0b85e59d93b027e040cbd65e63c4f439f0b39ace4", "utf-8"),
                ("b.csv", "7ba3e2b44ea5bc2ddf81a75f627ae95a6767afa4ffb94b0e0da8c09b95571791", "cp949"),
            ],
            files.Select(f => ((string)f!["file"]!, (string)f["sha256"]!, (string)f["encoding"]!)));
    }

    [Fact]
    public void Parameters_map_onto_options()
    {
        var options = LoadStageExecutor.ToOptions(new LoadParameters
        {
            Encoding = TextEncoding.EucKr,
            Format = DataFormat.Jsonl,
            Columns = new Core.Spec.Stages.ColumnMapping { Context = "passage", Question = "query", Answer = "response" },
            Shuffle = false,
            TestSize = 20,
            Limit = 100,
        }, pipelineSeed: -1);
        Assert.Equal(TextEncodingKind.EucKr, options.Encoding);
        Assert.Equal(DataFileFormat.Jsonl, options.Format);
        Assert.Equal(new Stages.Load.ColumnMapping("passage", "query", "response"), options.Columns);
        Assert.False(options.Shuffle);
        Assert.Equal(ulong.MaxValue, options.Seed); // the pipeline seed, when shuffle_seed is absent
        Assert.Equal((null, 20, 100), (options.TestFraction, options.TestCount, options.Limit));

        var fraction = LoadStageExecutor.ToOptions(new LoadParameters { TestSize = 0.25, ShuffleSeed = 1234 }, pipelineSeed: 5);
        Assert.Equal((0.25, (int?)null, 1234UL), (fraction.TestFraction, fraction.TestCount, fraction.Seed));
    }

    [Fact]
    public async Task A_data_error_surfaces_with_its_location()
    {
        using var temp = new TempFolder();
        string bad = temp.File("bad.csv", Encodings.ToUtf8("context,question,cot\n가,나,다\n"));
        var context = StageContexts.Create(temp, "load", new LoadParameters { Encoding = TextEncoding.Cp949 },
            new Dictionary<string, IReadOnlyList<string>> { ["files"] = [bad] });
        var e = await Assert.ThrowsAsync<DatasetLoadException>(() => new LoadStageExecutor().RunAsync(context, CancellationToken.None));
        Assert.StartsWith($"{bad}: declared cp949 but this file looks like UTF-8", e.Message);
    }
}
