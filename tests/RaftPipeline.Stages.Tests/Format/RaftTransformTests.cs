using RaftPipeline.Stages.Data;
using RaftPipeline.Stages.Format;

namespace RaftPipeline.Stages.Tests.Format;

public class RaftTransformTests
{
    private const string Refusal = "내가 그딴 걸 어떻게 알아?";
    private const string Separator = "\n\n";

    private static List<DatasetRow> Rows(int count, int negatives = 0) =>
        Enumerable.Range(0, count).Select(i => new DatasetRow($"문단 {i}.", $"질문 {i}?", $"답 {i}", true, "d.csv", i + 2))
            .Concat(Enumerable.Range(0, negatives).Select(i => new DatasetRow($"부정 문단 {i}.", $"모르는 질문 {i}?", Refusal, false, "neg.csv", i + 2)))
            .ToList();

    private static FormatOptions Options(int k = 0, double p = 0.8, double negatives = 0, ulong seed = 1234, bool shuffle = true, int? negativeContexts = null,
        bool refuseWithoutOracle = true) => new()
    {
        SystemPrompt = "너는 무례한 비서야.",
        Raft = new RaftOptions
        {
            DistractorCount = k, OracleProbability = p, NegativeFraction = negatives, Seed = seed, ShuffleOutput = shuffle,
            NegativeContextCount = negativeContexts, RefuseWithoutOracle = refuseWithoutOracle,
        },
    };

    /// <summary>The contexts an example shows, read back from its user text (the default template).</summary>
    private static string[] ShownContexts(ChatExample e)
    {
        string context = e.User["Context: ".Length..e.User.IndexOf("\n---\nQuestion: ", StringComparison.Ordinal)];
        return context.Split(Separator);
    }

    [Fact]
    public void Without_raft_each_row_becomes_one_example_with_the_user_template()
    {
        var rows = Rows(2, negatives: 1);
        var examples = RaftTransform.Build(rows, Options(shuffle: false));
        Assert.Equal(
            [
                new ChatExample("너는 무례한 비서야.", "Context: 문단 0.\n---\nQuestion: 질문 0?", "답 0", ExampleKind.Plain, 1, "d.csv", 2),
                new ChatExample("너는 무례한 비서야.", "Context: 문단 1.\n---\nQuestion: 질문 1?", "답 1", ExampleKind.Plain, 1, "d.csv", 3),
                new ChatExample("너는 무례한 비서야.", "Context: 부정 문단 0.\n---\nQuestion: 모르는 질문 0?", Refusal, ExampleKind.Plain, 1, "neg.csv", 2),
            ],
            examples);
    }

    [Fact]
    public void An_empty_system_prompt_means_none()
    {
        var examples = RaftTransform.Build(Rows(1), Options() with { SystemPrompt = "" });
        Assert.Null(examples.Single().System);
    }

    [Fact]
    public void Same_seed_same_examples_other_seed_other_examples()
    {
        var rows = Rows(50, negatives: 5);
        var a = RaftTransform.Build(rows, Options(k: 3, negatives: 0.2, seed: 7));
        var b = RaftTransform.Build(rows, Options(k: 3, negatives: 0.2, seed: 7));
        var c = RaftTransform.Build(rows, Options(k: 3, negatives: 0.2, seed: 8));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void The_oracle_is_kept_with_probability_p_and_distractors_are_never_the_oracle()
    {
        var rows = Rows(4000);
        var byRow = rows.ToDictionary(r => r.SourceRow);
        var examples = RaftTransform.Build(rows, Options(k: 3, p: 0.8, refuseWithoutOracle: false));
        Assert.Equal(4000, examples.Count);

        int kept = 0;
        foreach (var e in examples)
        {
            var row = byRow[e.SourceRow];
            var shown = ShownContexts(e);
            Assert.Equal(shown.Length, shown.Distinct().Count());
            Assert.Equal(row.Answer, e.Assistant); // the paper's variant: the answer is unchanged with or without the oracle
            int oracles = shown.Count(c => c == row.Context);
            if (e.Kind == ExampleKind.RaftWithOracle)
            {
                Assert.Equal((4, 1), (shown.Length, oracles));
                kept++;
            }
            else
            {
                Assert.Equal(ExampleKind.RaftDistractorsOnly, e.Kind);
                Assert.Equal((3, 0), (shown.Length, oracles));
            }
        }
        // Binomial(4000, 0.8): sd = sqrt(4000 * 0.16) ≈ 25.3; allow 4 sd.
        Assert.InRange(kept, 3200 - 102, 3200 + 102);
    }

    [Fact]
    public void The_oracle_lands_in_every_position()
    {
        var rows = Rows(400);
        var byRow = rows.ToDictionary(r => r.SourceRow);
        var positions = RaftTransform.Build(rows, Options(k: 2, p: 1))
            .Select(e => Array.IndexOf(ShownContexts(e), byRow[e.SourceRow].Context)).ToList();
        Assert.All(new[] { 0, 1, 2 }, position => Assert.InRange(positions.Count(p => p == position), 90, 180));
    }

    [Fact]
    public void By_default_dropped_oracles_are_answered_with_the_refusal()
    {
        // RefuseWithoutOracle left at its default.
        var examples = RaftTransform.Build(Rows(200), new FormatOptions { Raft = new RaftOptions { DistractorCount = 2, OracleProbability = 0.5 } });
        Assert.All(examples, e => Assert.Equal(e.Kind == ExampleKind.RaftDistractorsOnly, e.Assistant == Refusal));
        Assert.Contains(examples, e => e.Kind == ExampleKind.RaftDistractorsOnly);
    }

    [Fact]
    public void A_paragraph_shared_by_several_questions_is_never_its_own_distractor()
    {
        var rows = Enumerable.Range(0, 30).Select(i => new DatasetRow($"문단 {i % 5}", $"q{i}", $"a{i}", true, "d.csv", i + 2)).ToList();
        foreach (var e in RaftTransform.Build(rows, Options(k: 4, p: 0)))
            Assert.DoesNotContain(rows.Single(r => r.SourceRow == e.SourceRow).Context, ShownContexts(e));
    }

    [Fact]
    public void Synthesized_negatives_pair_a_question_with_unrelated_contexts_and_the_refusal()
    {
        var rows = Rows(40, negatives: 3);
        var byRow = rows.Where(r => r.Answerable).ToDictionary(r => r.SourceRow);
        var examples = RaftTransform.Build(rows, Options(k: 2, negatives: 0.25));
        var negatives = examples.Where(e => e.Kind == ExampleKind.SynthesizedNegative).ToList();

        Assert.Equal(10, negatives.Count); // 0.25 × 40 answerable rows
        Assert.Equal(40 + 3 + 10, examples.Count);
        Assert.Equal(10, negatives.Select(n => n.SourceRow).Distinct().Count()); // no question twice before all once
        foreach (var n in negatives)
        {
            var row = byRow[n.SourceRow];
            Assert.Equal(Refusal, n.Assistant);
            Assert.EndsWith($"Question: {row.Question}", n.User);
            var shown = ShownContexts(n);
            Assert.Equal(3, shown.Length); // k + 1, as many as an example that kept its oracle
            Assert.DoesNotContain(row.Context, shown);
        }
        // The data's own unanswerable rows are kept as they are.
        Assert.Equal(3, examples.Count(e => e.Kind == ExampleKind.Plain && e.Assistant == Refusal));
        // Negatives are shuffled in, not all at the end.
        Assert.Contains(examples.Take(examples.Count / 2), e => e.Kind == ExampleKind.SynthesizedNegative);
    }

    [Fact]
    public void Negative_context_count_can_be_set()
    {
        var negatives = RaftTransform.Build(Rows(10), Options(negatives: 0.5, negativeContexts: 1))
            .Where(e => e.Kind == ExampleKind.SynthesizedNegative).ToList();
        Assert.Equal(5, negatives.Count);
        Assert.All(negatives, n => Assert.Single(ShownContexts(n)));
    }

    [Fact]
    public void Too_few_contexts_for_k_distractors_is_an_error()
    {
        var e = Assert.Throws<ArgumentException>(() => RaftTransform.Build(Rows(3), Options(k: 3)));
        Assert.StartsWith("RAFT needs 3 other contexts for d.csv row ", e.Message);
        Assert.EndsWith("but the data has only 2 distinct contexts besides its own; lower the distractor or negative context count", e.Message);
    }

    [Fact]
    public void Invalid_options_are_errors()
    {
        Assert.Equal("RAFT oracle probability must be in [0, 1], got 1.5",
            Assert.Throws<ArgumentException>(() => RaftTransform.Build(Rows(5), Options(k: 1, p: 1.5))).Message);
        Assert.Equal("RAFT negative fraction must not be negative, got -1",
            Assert.Throws<ArgumentException>(() => RaftTransform.Build(Rows(5), Options(negatives: -1))).Message);
    }

    [Fact]
    public void User_template_fills_both_placeholders_once_and_requires_them()
    {
        var template = new UserTemplate("[{question}] {context}");
        Assert.Equal("[q] a {question} in text", template.Render("a {question} in text", "q"));
        Assert.Equal("Context: c\n---\nQuestion: q", new UserTemplate().Render("c", "q"));
        var e = Assert.Throws<ArgumentException>(() => new UserTemplate("Question: {question}"));
        Assert.StartsWith("user template must contain {context}", e.Message);
    }

    [Fact]
    public void Chat_examples_round_trip_through_jsonl()
    {
        var examples = RaftTransform.Build(Rows(10, negatives: 2), Options(k: 2, negatives: 0.3));
        string path = Path.Combine(Directory.CreateTempSubdirectory("raft-format-").FullName, "examples.jsonl");
        try
        {
            ChatExampleJsonl.Write(path, examples);
            Assert.Equal(examples, ChatExampleJsonl.Read(path));
            Assert.Contains("\"assistant\":\"내가 그딴 걸 어떻게 알아?\"", File.ReadAllText(path));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, true);
        }
    }
}
