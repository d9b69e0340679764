using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Stages.Data;
using RaftPipeline.Stages.Format;
using RaftPipeline.Stages.Load;
using RaftPipeline.Stages.Tests.TestSupport;
using RaftPipeline.Text.Assets;
using RaftPipeline.Text.Templates;
using SpecRaft = RaftPipeline.Core.Spec.Stages.RaftOptions;

namespace RaftPipeline.Stages.Tests.Format;

public class FormatStageExecutorTests : IDisposable
{
    private const string Refusal = "내가 그딴 걸 어떻게 알아?";
    private const string System = "너는 무례한 비서야.";

    private readonly TempFolder _temp = new();
    private readonly string _model;

    public FormatStageExecutorTests()
    {
        // The real Qwen3 tokenizer_config.json and its chat template, as a model folder holds them.
        _model = Directory.CreateDirectory(_temp.Combine("model")).FullName;
        EmbeddedAssets.WriteQwen3Tokenizer(_model);
    }

    public void Dispose() => _temp.Dispose();

    private static DatasetRow Row(int i, bool answerable = true) => answerable
        ? new DatasetRow($"문단 {i}: 서울은 한국의 수도이다.", $"질문 {i}?", $"그것도 몰라? 여기 \"문단 {i}\"에 나와 있잖아.", true, "RAG_Data_full.csv", i + 2)
        : new DatasetRow($"부정 문단 {i}.", $"모르는 질문 {i}?", Refusal, false, "RAG_Data_full_neg.csv", i + 2);

    /// <summary>A load artifact written by the load stage's own writer.</summary>
    private string LoadArtifactOf(string name, IReadOnlyList<DatasetRow> train, IReadOnlyList<DatasetRow> test)
    {
        string dir = Directory.CreateDirectory(_temp.Combine(name)).FullName;
        var file = new LoadedFile("/data/RAG_Data_full.csv", new string('a', 64), DataFileFormat.Csv, "cp949", "declared", [.. train, .. test], 0);
        LoadArtifact.Write(dir, new LoadResult(train, test, [file]));
        return dir;
    }

    private (StageContext Context, Task<StageOutcome> Run) Format(string data, FormatParameters parameters, long seed = 1234, string? run = null)
    {
        var temp = Directory.CreateDirectory(_temp.Combine(run ?? "run-" + Guid.NewGuid().ToString("N"))).FullName;
        string output = Directory.CreateDirectory(Path.Combine(temp, "out")).FullName;
        string report = Directory.CreateDirectory(Path.Combine(temp, "report")).FullName;
        var inputs = new Dictionary<string, IReadOnlyList<string>> { ["data"] = [data], ["model"] = [_model] };
        var context = new StageContext
        {
            Stage = new Core.Spec.StageSpec("format", "format",
                inputs.ToDictionary(i => i.Key, i => (IReadOnlyList<Core.Spec.StageInput>)i.Value.Select(p => (Core.Spec.StageInput)new Core.Spec.StageInput.FromPath(p)).ToList()),
                parameters, new Core.Spec.SourceLocation("test.yaml", 1, 1)),
            Inputs = inputs,
            OutputDirectory = output,
            ReportDirectory = report,
            Seed = seed,
            Device = Core.Spec.DeviceKind.Cpu,
            Progress = new RecordingProgress(),
        };
        return (context, new FormatStageExecutor().RunAsync(context, CancellationToken.None));
    }

    private static string ChatMl(string? system, DatasetRow row, string? answer = null, bool think = false) =>
        (system is null ? "" : $"<|im_start|>system\n{system}<|im_end|>\n") +
        $"<|im_start|>user\nContext: {row.Context}\n---\nQuestion: {row.Question}<|im_end|>\n" +
        $"<|im_start|>assistant\n{(think ? "<think>\n\n</think>\n\n" : "")}{answer ?? row.Answer}<|im_end|>\n";

    [Fact]
    public async Task Both_splits_are_rendered_as_qwen3_chatml_with_the_empty_think_block_stripped()
    {
        DatasetRow[] train = [Row(0), Row(1, answerable: false), Row(2)];
        DatasetRow[] test = [Row(3)];
        string data = LoadArtifactOf("load", train, test);

        var (context, run) = Format(data, new FormatParameters { SystemPrompt = System });
        var outcome = await run;
        string output = context.OutputDirectory;

        // RAFT off: one example per row, in the load stage's order, rendered by Qwen3's template.
        Assert.Equal(train.Select(r => ChatMl(System, r)), FormatArtifact.ReadTexts(output));
        Assert.Equal([ChatMl(System, test[0])], FormatArtifact.ReadTestTexts(output));
        Assert.Equal(
            new ChatExample(System, $"Context: {test[0].Context}\n---\nQuestion: {test[0].Question}", test[0].Answer, ExampleKind.Plain, 1, "RAG_Data_full.csv", 5),
            Assert.Single(FormatArtifact.ReadTestExamples(output)));
        Assert.Equal(train.Select(r => (r.Answer, r.SourceRow)), FormatArtifact.ReadExamples(output).Select(e => (e.Assistant, e.SourceRow)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(data, LoadArtifact.FilesFile)), File.ReadAllBytes(Path.Combine(output, FormatArtifact.FilesFile)));

        Assert.Equal(3, (int)outcome.Metrics["train"]!["examples"]!);
        Assert.Equal(1, (int)outcome.Metrics["test"]!["rows"]!);
        Assert.Equal(4, (int)outcome.Metrics["think_blocks_stripped"]!); // one per conversation, the last assistant turn's
        var lines = ((RecordingProgress)context.Progress).Lines;
        Assert.Contains("train: 3 rows → 3 examples (0 negatives synthesized, 0 oracles dropped)", lines);
        Assert.Contains("test: 1 rows → 1 examples (0 negatives synthesized, 0 oracles dropped)", lines);
    }

    [Fact]
    public async Task Without_strip_the_templates_think_block_stays_and_without_system_prompt_there_is_no_system_turn()
    {
        string data = LoadArtifactOf("load", [Row(0)], []);
        var (context, run) = Format(data, new FormatParameters { StripEmptyThink = false, SystemPrompt = "" });
        var outcome = await run;
        Assert.Equal([ChatMl(null, Row(0), think: true)], FormatArtifact.ReadTexts(context.OutputDirectory));
        Assert.Empty(FormatArtifact.ReadTestTexts(context.OutputDirectory));
        Assert.Empty(FormatArtifact.ReadTestExamples(context.OutputDirectory));
        Assert.Equal(0, (int)outcome.Metrics["think_blocks_stripped"]!);
    }

    [Fact]
    public async Task The_texts_are_what_the_chat_template_renders_for_the_examples()
    {
        // Cross-check through the public template API: the same conversation rendered directly, with the block removed.
        string data = LoadArtifactOf("load", [Row(0), Row(1), Row(2), Row(3)], [Row(4), Row(5), Row(6)]);
        var (context, run) = Format(data, Raft(distractors: 1, oracle: 0.5, negatives: 0.5));
        await run;
        var template = ChatTemplate.FromEmbeddedQwen3();
        foreach (var (examples, texts) in new[]
        {
            (FormatArtifact.ReadExamples(context.OutputDirectory), FormatArtifact.ReadTexts(context.OutputDirectory)),
            (FormatArtifact.ReadTestExamples(context.OutputDirectory), FormatArtifact.ReadTestTexts(context.OutputDirectory)),
        })
        {
            Assert.Equal(examples.Count, texts.Count);
            for (int i = 0; i < examples.Count; i++)
            {
                var e = examples[i];
                string rendered = template.Render(ChatConversation.FromMessages(
                    [new ChatMessage("system", e.System), new ChatMessage("user", e.User), new ChatMessage("assistant", e.Assistant)]));
                Assert.Equal(rendered.Replace("<think>\n\n</think>\n\n", ""), texts[i]);
            }
        }
    }

    private static FormatParameters Raft(int distractors, double oracle, double negatives) => new()
    {
        SystemPrompt = System,
        Raft = new SpecRaft { Distractors = distractors, OracleProbability = oracle, Negatives = negatives },
    };

    [Fact]
    public async Task Raft_is_deterministic_by_seed_and_applied_to_the_test_split_with_its_own_seed()
    {
        var train = Enumerable.Range(0, 40).Select(i => Row(i, answerable: i % 8 != 7)).ToList();
        var test = Enumerable.Range(100, 20).Select(i => Row(i)).ToList();
        string data = LoadArtifactOf("load", train, test);
        var parameters = Raft(distractors: 2, oracle: 0.5, negatives: 0.25);

        var (a, runA) = Format(data, parameters, seed: 1234);
        var outcome = await runA;
        var (b, runB) = Format(data, parameters, seed: 1234);
        await runB;
        var (c, runC) = Format(data, parameters, seed: 99);
        await runC;

        string[] files = [FormatArtifact.ExamplesFile, FormatArtifact.TextsFile, FormatArtifact.TestExamplesFile, FormatArtifact.TestTextsFile];
        foreach (var file in files)
        {
            byte[] first = File.ReadAllBytes(Path.Combine(a.OutputDirectory, file));
            Assert.Equal(first, File.ReadAllBytes(Path.Combine(b.OutputDirectory, file)));
            Assert.NotEqual(first, File.ReadAllBytes(Path.Combine(c.OutputDirectory, file)));
        }
        Assert.NotEqual(DerivedSeed.For(1234, FormatStageExecutor.TrainSeedPurpose), DerivedSeed.For(1234, FormatStageExecutor.TestSeedPurpose));

        var trainExamples = FormatArtifact.ReadExamples(a.OutputDirectory);
        var testExamples = FormatArtifact.ReadTestExamples(a.OutputDirectory);
        // 35 answerable train rows → round(0.25 × 35) = 9 negatives; 20 test rows → 5.
        Assert.Equal((40 + 9, 9), (trainExamples.Count, trainExamples.Count(e => e.Kind == ExampleKind.SynthesizedNegative)));
        Assert.Equal((20 + 5, 5), (testExamples.Count, testExamples.Count(e => e.Kind == ExampleKind.SynthesizedNegative)));
        // The held-out split looks like the training split: distractors, dropped oracles answered with the refusal.
        Assert.Contains(testExamples, e => e.Kind == ExampleKind.RaftWithOracle && e.ContextCount == 3);
        Assert.Contains(testExamples, e => e.Kind == ExampleKind.RaftDistractorsOnly);
        Assert.All(trainExamples.Concat(testExamples).Where(e => e.Kind is ExampleKind.RaftDistractorsOnly or ExampleKind.SynthesizedNegative),
            e => Assert.Equal(Refusal, e.Assistant));
        // Test distractors come from test paragraphs only: no training paragraph leaks into the held-out texts.
        Assert.All(testExamples, e => Assert.DoesNotContain(train, r => e.User.Contains(r.Context, StringComparison.Ordinal)));

        int dropped = trainExamples.Count(e => e.Kind == ExampleKind.RaftDistractorsOnly);
        Assert.Equal(9, (int)outcome.Metrics["train"]!["negatives_synthesized"]!);
        Assert.Equal(dropped, (int)outcome.Metrics["train"]!["oracles_dropped"]!);
        Assert.Contains($"train: 40 rows → 49 examples (9 negatives synthesized, {dropped} oracles dropped)", ((RecordingProgress)a.Progress).Lines);
    }

    [Fact]
    public async Task The_report_shows_two_rendered_examples_one_of_them_a_refusal()
    {
        var rows = Enumerable.Range(0, 12).Select(i => Row(i)).ToList();
        string data = LoadArtifactOf("load", rows, []);
        var (context, run) = Format(data, Raft(distractors: 1, oracle: 1, negatives: 0.5));
        await run;
        string md = File.ReadAllText(Path.Combine(context.ReportDirectory, FormatReport.FileName));
        var texts = FormatArtifact.ReadTexts(context.OutputDirectory);
        var examples = FormatArtifact.ReadExamples(context.OutputDirectory);
        Assert.StartsWith("# format\n\n- train: 12 rows → 18 examples (6 negatives synthesized, 0 oracles dropped)\n- test: 0 rows → 0 examples", md);
        Assert.Equal(2, md.Split("\n## Example ").Length - 1);
        Assert.Contains($"```text\n{texts[0]}```\n", md);
        int other = examples.FindIndex(e => e.Kind != examples[0].Kind);
        Assert.Contains($"## Example {other + 1} of 18: {examples[other].Kind}", md);
        Assert.Contains($"```text\n{texts[other]}```\n", md);
        Assert.Contains(Refusal + "<|im_end|>\n```", md);
    }

    [Fact]
    public async Task The_example_data_loads_and_formats_with_raft_on()
    {
        string folder = Path.Combine(RepoRoot.Path, "examples", "data");
        using var loadTemp = new TempFolder();
        var load = StageContexts.Create(loadTemp, "load", new LoadParameters { Encoding = TextEncoding.Cp949, TestSize = 0.1 },
            new Dictionary<string, IReadOnlyList<string>>
            {
                ["files"] = [Path.Combine(folder, "RAG_Data_full.csv"), Path.Combine(folder, "RAG_Data_full_neg.csv")],
            });
        await new LoadStageExecutor().RunAsync(load, CancellationToken.None);
        var (context, run) = Format(load.OutputDirectory, Raft(distractors: 2, oracle: 0.8, negatives: 0.25));
        var outcome = await run;

        var train = LoadArtifact.ReadTrain(load.OutputDirectory);
        var examples = FormatArtifact.ReadExamples(context.OutputDirectory);
        var texts = FormatArtifact.ReadTexts(context.OutputDirectory);
        int answerable = train.Count(r => r.Answerable);
        int negatives = (int)Math.Round(0.25 * answerable, MidpointRounding.AwayFromZero);
        Assert.Equal(train.Count + negatives, examples.Count);
        Assert.Equal(negatives, (int)outcome.Metrics["train"]!["negatives_synthesized"]!);
        Assert.All(texts, t => Assert.StartsWith($"<|im_start|>system\n{System}<|im_end|>\n<|im_start|>user\nContext: ", t));
        Assert.All(texts, t => Assert.DoesNotContain("<think>", t));
        // The data's own unanswerable rows keep their single context and their refusal.
        Assert.All(examples.Where(e => e.Source == "RAG_Data_full_neg.csv"), e => Assert.Equal((ExampleKind.Plain, 1, Refusal), (e.Kind, e.ContextCount, e.Assistant)));
        Assert.NotEmpty(FormatArtifact.ReadTestTexts(context.OutputDirectory));
    }

    [Fact]
    public async Task A_broken_load_artifact_is_an_error_naming_the_file_and_line()
    {
        string data = LoadArtifactOf("load", [Row(0), Row(1)], []);
        string train = Path.Combine(data, LoadArtifact.TrainFile);
        File.WriteAllLines(train, [File.ReadAllLines(train)[0], "{\"context\": \"c\", \"question\": 3}"]);
        var e = await Assert.ThrowsAsync<DatasetFormatException>(() => Format(data, new FormatParameters()).Run);
        Assert.Equal($"{train}: line 2: key 'question' is Number, expected String", e.Message);
    }

    [Fact]
    public async Task A_load_artifact_without_files_json_is_an_error_naming_it()
    {
        string data = LoadArtifactOf("load", [Row(0)], []);
        File.Delete(Path.Combine(data, LoadArtifact.FilesFile));
        var e = await Assert.ThrowsAsync<DatasetFormatException>(() => Format(data, new FormatParameters()).Run);
        Assert.Equal($"{Path.Combine(data, LoadArtifact.FilesFile)}: missing: the load stage writes what each input file contributed there", e.Message);
    }

    [Fact]
    public async Task A_model_folder_without_a_chat_template_is_an_error_naming_the_file()
    {
        string data = LoadArtifactOf("load", [Row(0)], []);
        string config = Path.Combine(_model, "tokenizer_config.json");
        File.WriteAllText(config, "{\"eos_token\": \"<|im_end|>\"}");
        var e = await Assert.ThrowsAsync<ChatInputException>(() => Format(data, new FormatParameters()).Run);
        Assert.Equal($"{config}: chat_template: missing: the folder has no chat_template.jinja and tokenizer_config.json sets no chat_template", e.Message);
    }

    [Fact]
    public async Task A_test_split_too_small_for_the_distractors_is_an_error_naming_the_test_file()
    {
        string data = LoadArtifactOf("load", Enumerable.Range(0, 10).Select(i => Row(i)).ToList(), [Row(50), Row(51)]);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Format(data, Raft(distractors: 2, oracle: 1, negatives: 0)).Run);
        Assert.StartsWith($"{Path.Combine(data, LoadArtifact.TestFile)}: the test split's 2 rows: RAFT needs 2 other contexts", e.Message);
    }

    [Fact]
    public void A_format_artifact_without_test_texts_is_an_error_naming_the_file()
    {
        string dir = Directory.CreateDirectory(_temp.Combine("empty")).FullName;
        Assert.Equal($"{Path.Combine(dir, FormatArtifact.TestTextsFile)}: missing: the format stage writes the test split's rendered texts there",
            Assert.Throws<DatasetFormatException>(() => FormatArtifact.ReadTestTexts(dir)).Message);
        File.WriteAllText(Path.Combine(dir, FormatArtifact.TestExamplesFile), "{\"system\": null, \"user\": null}\n");
        Assert.Equal($"{Path.Combine(dir, FormatArtifact.TestExamplesFile)}: line 1: not a chat example: 'user' is Null, expected a string",
            Assert.Throws<DatasetFormatException>(() => FormatArtifact.ReadTestExamples(dir)).Message);
    }
}
