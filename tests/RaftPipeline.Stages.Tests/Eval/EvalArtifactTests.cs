using RaftPipeline.Stages.Data;
using RaftPipeline.Stages.Eval;
using RaftPipeline.Stages.Tests.TestSupport;

namespace RaftPipeline.Stages.Tests.Eval;

public class EvalArtifactTests
{
    static readonly AnswerScorer Scorer = new("그것도 몰라?", "여기", "내가 그딴 걸 어떻게 알아?");

    static RowPrediction Prediction(bool answerable, string context, string reference, string baseAnswer, string tunedAnswer, int row) =>
        new(new DatasetRow(context, "질문?", reference, answerable, "data.csv", row), new Dictionary<string, AnswerScore>
        {
            ["base"] = Score(baseAnswer, context, 3.0, 2),
            ["tuned"] = Score(tunedAnswer, context, 1.0, 2),
        });

    static AnswerScore Score(string answer, string context, double lossSum, int tokens) =>
        new(answer, Scorer.HasOpening(answer), Scorer.QuotedSpan(answer, context), Scorer.Refuses(answer), lossSum, tokens);

    static List<RowPrediction> Predictions() =>
    [
        Prediction(true, "고양이는 하루에 열여섯 시간을 잔다.", "그것도 몰라? 여기 '하루에 열여섯 시간을 잔다'잖아.",
            "고양이는 많이 자요.", "그것도 몰라? 여기 '하루에 열여섯 시간을 잔다'잖아.", 2),
        Prediction(true, "달은 지구의 위성이다.", "그것도 몰라? 여기 '지구의 위성이다'라고.",
            "그것도 몰라? 위성이야.", "그것도 몰라? 위성이야.", 3),
        Prediction(false, "사과는 빨갛다.", "내가 그딴 걸 어떻게 알아?", "모르겠어요.", "내가 그딴 걸 어떻게 알아?", 4),
    ];

    static Dictionary<string, ModelMetrics> Metrics(List<RowPrediction> p) =>
        new[] { "base", "tuned" }.ToDictionary(m => m, m => ModelMetrics.From(p.Select(r => (r.Row.Answerable, r.Answers[m])).ToList()));

    [Fact]
    public void Eval_json_has_the_contract_shape_with_rates_over_answerable_and_unanswerable_rows()
    {
        var predictions = Predictions();
        var json = EvalArtifact.ToJson(predictions, Metrics(predictions), Scorer).ToJsonString();
        Assert.Equal(
            "{\"rows\":3,\"answerable\":2,\"unanswerable\":1," +
            "\"rules\":{\"opening\":\"그것도 몰라?\",\"marker\":\"여기\",\"quote_min_chars\":8,\"refusal\":\"내가 그딴 걸 어떻게 알아?\"}," +
            "\"models\":{" +
            "\"base\":{\"opening_rate\":0.5,\"quote_rate\":0,\"refusal_rate\":0,\"loss\":1.5,\"openings\":1,\"quotes\":0,\"refusals\":0,\"loss_tokens\":6}," +
            "\"tuned\":{\"opening_rate\":1,\"quote_rate\":0.5,\"refusal_rate\":1,\"loss\":0.5,\"openings\":2,\"quotes\":1,\"refusals\":1,\"loss_tokens\":6}}}",
            System.Text.RegularExpressions.Regex.Unescape(json));
    }

    [Fact]
    public void A_rate_without_rows_to_count_is_null_not_zero()
    {
        var answerableOnly = Predictions().Take(2).ToList();
        var tuned = ModelMetrics.From(answerableOnly.Select(r => (r.Row.Answerable, r.Answers["tuned"])).ToList());
        Assert.Null(tuned.RefusalRate);
        Assert.Equal(1.0, tuned.OpeningRate);
    }

    [Fact]
    public void Writes_eval_json_predictions_and_a_base_vs_tuned_table()
    {
        using var temp = new TempFolder();
        var predictions = Predictions();
        EvalArtifact.Write(temp.Path, predictions, Metrics(predictions), Scorer);

        var lines = File.ReadAllLines(temp.Combine(EvalArtifact.PredictionsFile));
        Assert.Equal(3, lines.Length);
        Assert.Equal(
            "{\"index\":0,\"source\":\"data.csv\",\"row\":2,\"answerable\":true,\"question\":\"질문?\"," +
            "\"reference\":\"그것도 몰라? 여기 '하루에 열여섯 시간을 잔다'잖아.\"," +
            "\"base\":{\"answer\":\"고양이는 많이 자요.\",\"opening\":false,\"quote\":null,\"refusal\":false,\"loss\":1.5}," +
            "\"tuned\":{\"answer\":\"그것도 몰라? 여기 '하루에 열여섯 시간을 잔다'잖아.\",\"opening\":true,\"quote\":\"하루에 열여섯 시간을 잔다\",\"refusal\":false,\"loss\":0.5}}",
            lines[0]);
        Assert.Equal(
            "# Evaluation\n\n3 held-out rows: 2 answerable, 1 unanswerable.\n\n" +
            "| metric | base | tuned |\n|---|---:|---:|\n" +
            "| opens with “그것도 몰라?” (answerable) | 50.0% (1/2) | 100.0% (2/2) |\n" +
            "| quotes the context after “여기”, ≥ 8 chars (answerable) | 0.0% (0/2) | 50.0% (1/2) |\n" +
            "| refuses with “내가 그딴 걸 어떻게 알아?” (unanswerable) | 0.0% (0/1) | 100.0% (1/1) |\n" +
            "| held-out loss per answer token | 1.5000 | 0.5000 |\n",
            File.ReadAllText(temp.Combine(EvalArtifact.MarkdownFile)));
        Assert.StartsWith("{\n  \"rows\": 3,", File.ReadAllText(temp.Combine(EvalArtifact.EvalFile)));
    }
}
