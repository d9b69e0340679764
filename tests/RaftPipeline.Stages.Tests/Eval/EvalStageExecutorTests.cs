using System.Text.Json.Nodes;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Stages.Data;
using RaftPipeline.Stages.Eval;
using RaftPipeline.Stages.Load;
using RaftPipeline.Stages.Tests.Generate;
using RaftPipeline.Stages.Tests.TestSupport;
using RaftPipeline.Text.Tokenization;
using TorchSharp;

namespace RaftPipeline.Stages.Tests.Eval;

public class EvalStageExecutorTests(TinyModelFolders folders) : IClassFixture<TinyModelFolders>
{
    static readonly DatasetRow[] TestRows =
    [
        new("고양이는 하루에 열여섯 시간을 잔다.", "고양이는 얼마나 자?", "그것도 몰라? 여기 '하루에 열여섯 시간을 잔다'잖아.", true, "a.csv", 2),
        new("달은 지구의 위성이다.", "사과는 무슨 색이야?", "내가 그딴 걸 어떻게 알아?", false, "neg.csv", 2),
        new("한강은 서울을 가로지른다.", "한강은 어디를 흘러?", "그것도 몰라? 여기 '서울을 가로지른다'고.", true, "a.csv", 3),
    ];

    static string LoadArtifactWith(TempFolder temp, IEnumerable<DatasetRow> test)
    {
        string dir = Directory.CreateDirectory(temp.Combine("load")).FullName;
        DatasetJsonl.Write(Path.Combine(dir, LoadArtifact.TrainFile), TestRows);
        DatasetJsonl.Write(Path.Combine(dir, LoadArtifact.TestFile), test);
        return dir;
    }

    static EvalParameters Parameters(int? maxRows = null) => new()
    {
        SystemPrompt = "무례하게 답해.",
        MaxRows = maxRows,
        Sampling = new SamplingOptions { Greedy = true, MaxNewTokens = 4 },
    };

    async Task<(string Output, string Report, JsonObject Metrics)> Run(TempFolder temp, EvalParameters parameters, string? adapter, IEnumerable<DatasetRow> rows)
    {
        var inputs = new Dictionary<string, IReadOnlyList<string>> { ["model"] = [folders.Model], ["data"] = [LoadArtifactWith(temp, rows)] };
        if (adapter is not null) inputs["adapter"] = [adapter];
        var context = StageContexts.Create(temp, "eval", parameters, inputs);
        var outcome = await new EvalStageExecutor().RunAsync(context, CancellationToken.None);
        return (context.OutputDirectory, context.ReportDirectory, outcome.Metrics);
    }

    [Fact]
    public async Task Writes_eval_json_for_base_and_tuned_with_predictions_and_the_table_in_artifact_and_report()
    {
        using var temp = new TempFolder();
        var (output, report, metrics) = await Run(temp, Parameters(), folders.RandomAdapter, TestRows);

        var eval = JsonNode.Parse(File.ReadAllText(Path.Combine(output, EvalArtifact.EvalFile)))!.AsObject();
        Assert.Equal((3, 2, 1), ((int)eval["rows"]!, (int)eval["answerable"]!, (int)eval["unanswerable"]!));
        Assert.Equal(["base", "tuned"], eval["models"]!.AsObject().Select(m => m.Key));
        foreach (var (_, model) in eval["models"]!.AsObject())
        {
            Assert.Equal(["opening_rate", "quote_rate", "refusal_rate", "loss", "openings", "quotes", "refusals", "loss_tokens"],
                model!.AsObject().Select(p => p.Key));
            double loss = (double)model["loss"]!;
            Assert.InRange(loss, 1.0, 30.0); // a random model: near ln(151936) + s²/2 ≈ 15.2 (TinyPreset)
        }
        Assert.NotEqual((double)eval["models"]!["base"]!["loss"]!, (double)eval["models"]!["tuned"]!["loss"]!);
        Assert.Equal(eval.ToJsonString(), metrics.ToJsonString());

        var predictions = File.ReadAllLines(Path.Combine(output, EvalArtifact.PredictionsFile)).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(["고양이는 얼마나 자?", "사과는 무슨 색이야?", "한강은 어디를 흘러?"], predictions.Select(p => (string)p["question"]!));
        Assert.All(predictions, p => Assert.NotNull(p["base"]!["answer"]));
        Assert.All(predictions, p => Assert.NotNull(p["tuned"]!["answer"]));

        foreach (var file in new[] { EvalArtifact.EvalFile, EvalArtifact.MarkdownFile })
            Assert.Equal(File.ReadAllText(Path.Combine(output, file)), File.ReadAllText(Path.Combine(report, file)));
        Assert.Contains("| metric | base | tuned |", File.ReadAllText(Path.Combine(output, EvalArtifact.MarkdownFile)));
    }

    [Fact]
    public async Task The_loss_is_the_teacher_forced_cross_entropy_of_the_answer_tokens_after_the_hand_rendered_prompt()
    {
        using var temp = new TempFolder();
        var row = TestRows[0];
        var (_, _, metrics) = await Run(temp, Parameters(), null, [row]);

        string prompt = "<|im_start|>system\n무례하게 답해.<|im_end|>\n<|im_start|>user\nContext: " + row.Context +
            "\n---\nQuestion: " + row.Question + "<|im_end|>\n<|im_start|>assistant\n";
        string continuation = row.Answer + "<|im_end|>\n";
        var tokenizer = HuggingFaceTokenizer.FromDirectory(folders.Model);
        var promptIds = tokenizer.Encode(prompt, addSpecialTokens: false);
        var answerIds = tokenizer.Encode(continuation, addSpecialTokens: false);
        using var model = PretrainedLoader.Load(folders.Model);
        model.eval();
        double expected;
        using (torch.no_grad())
        {
            var ids = promptIds.Concat(answerIds).Select(i => (long)i).ToArray();
            using var logits = model.Forward(torch.tensor(ids, [1, ids.Length])).Logits;
            // Position t predicts token t + 1: the answer tokens are predicted from the last prompt position on.
            using var logProbs = logits[0].log_softmax(-1);
            double sum = 0;
            for (int k = 0; k < answerIds.Length; k++)
                sum -= logProbs[promptIds.Length - 1 + k, answerIds[k]].item<float>();
            expected = sum / answerIds.Length;
        }
        var baseModel = metrics["models"]!["base"]!;
        Assert.Equal(answerIds.Length, (int)baseModel["loss_tokens"]!);
        Assert.Equal(expected, (double)baseModel["loss"]!, 4);
        Assert.Null(metrics["models"]!["tuned"]); // no adapter given
    }

    [Fact]
    public async Task A_zero_B_adapter_scores_exactly_like_the_base_and_max_rows_limits_the_rows()
    {
        using var temp = new TempFolder();
        var (_, _, metrics) = await Run(temp, Parameters(maxRows: 2), folders.ZeroAdapter, TestRows);
        Assert.Equal(2, (int)metrics["rows"]!);
        Assert.Equal(metrics["models"]!["base"]!.ToJsonString(), metrics["models"]!["tuned"]!.ToJsonString());
    }

    /// <summary>
    /// Rows are decoded in length-sorted batches, each with its own seed: one row at a time (batch_size 1) and batches
    /// of 2 (rows of different lengths, so padding) write the same predictions, sampled as well as greedy, in row order.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Answers_do_not_depend_on_the_batch_size(bool greedy)
    {
        var sampling = new SamplingOptions { Greedy = greedy, MaxNewTokens = 5, TopK = 0, TopP = 1.0, Temperature = 1.0, RepetitionPenalty = 1.1 };
        var predictions = new List<string>();
        foreach (int batchSize in new[] { 1, 2 })
        {
            using var temp = new TempFolder();
            var (output, _, _) = await Run(temp, Parameters() with { Sampling = sampling, BatchSize = batchSize }, null, TestRows);
            predictions.Add(File.ReadAllText(Path.Combine(output, EvalArtifact.PredictionsFile)));
        }
        Assert.Equal(predictions[0], predictions[1]);
        var questions = predictions[0].Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (string)JsonNode.Parse(l)!["question"]!);
        Assert.Equal(TestRows.Select(r => r.Question), questions);
    }

    [Fact]
    public async Task An_empty_test_split_is_an_error_that_says_to_set_test_size()
    {
        using var temp = new TempFolder();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Run(temp, Parameters(), folders.RandomAdapter, []));
        Assert.Equal($"stage 'eval': the test split is empty ({Path.Combine(temp.Combine("load"), LoadArtifact.TestFile)} has no rows): " +
            "set the load stage's test_size (a fraction such as 0.1, or a row count) so eval has held-out rows", e.Message);
    }
}
