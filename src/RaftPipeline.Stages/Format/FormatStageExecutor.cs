using System.Globalization;
using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Stages.Data;
using RaftPipeline.Stages.Load;
using RaftPipeline.Text.Templates;
using SpecRaft = RaftPipeline.Core.Spec.Stages.RaftOptions;

namespace RaftPipeline.Stages.Format;

/// <summary>
/// The <c>format</c> stage: the load artifact's train and test splits → chat examples (system prompt, the user template
/// filled with the contexts and the question, the answer), RAFT applied to both splits (the held-out rows must look
/// like the rows trained on, or eval_loss and the eval metrics measure another distribution), each rendered with the
/// chat template of the <c>model</c> slot's tokenizer_config.json. Writes <see cref="FormatArtifact"/>'s files and
/// <see cref="FormatReport.FileName"/> into the report folder.
/// </summary>
/// <remarks>
/// RAFT defaults: <c>distractors: 0</c> keeps RAFT off (the notebook's behaviour: each row with its own context, in the
/// load stage's order). With distractors on, a row whose oracle context was dropped is answered with the refusal, not
/// its answer (the paper keeps the answer). Our recipe teaches "refuse when the contexts do not hold the answer": a
/// synthesized negative is a question shown only unrelated contexts, answered with the refusal, and a dropped-oracle
/// row is the same input; keeping its answer would train both answers for one kind of input, and eval's refusal rate
/// measures exactly that case. The spec's <c>refusal</c> is documented as the answer of both.
/// </remarks>
public sealed class FormatStageExecutor : IStageExecutor
{
    public const string DataSlot = "data";
    public const string ModelSlot = "model";

    /// <summary>Purposes for <see cref="DerivedSeed"/>: each split draws its own distractors and negatives.</summary>
    public const string TrainSeedPurpose = "format/train";
    public const string TestSeedPurpose = "format/test";

    public string Kind => "format";

    /// <summary>1: RAFT on both splits (dropped oracle → refusal), chat template with add_generation_prompt=False.</summary>
    public int Version => 1;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        var parameters = context.Parameters<FormatParameters>();
        if (!parameters.UserTemplate.Contains("{context}", StringComparison.Ordinal) || !parameters.UserTemplate.Contains("{question}", StringComparison.Ordinal))
            throw new ArgumentException($"stage '{context.Stage.Name}': user_template must contain {{context}} and {{question}}: \"{parameters.UserTemplate}\"");
        string data = context.Input(DataSlot);
        var template = ChatTemplate.FromModelFolder(context.Input(ModelSlot));
        var trainRows = LoadArtifact.ReadTrain(data);
        var testRows = LoadArtifact.ReadTest(data);
        string filesJson = LoadArtifact.FilesPath(data);
        if (trainRows.Count == 0)
            throw new InvalidDataException($"{Path.Combine(data, LoadArtifact.TrainFile)}: no rows: there is nothing to train on");

        var trainExamples = Build(trainRows, TrainSeedPurpose, LoadArtifact.TrainFile, "train");
        var testExamples = Build(testRows, TestSeedPurpose, LoadArtifact.TestFile, "test");

        var renderer = new ChatTextRenderer(template, parameters.StripEmptyThink);
        var trainTexts = Render(trainExamples, "render train");
        var testTexts = Render(testExamples, "render test");

        string output = context.OutputDirectory;
        FormatArtifact.WriteExamples(output, trainExamples);
        FormatArtifact.WriteTexts(output, trainTexts);
        FormatArtifact.WriteTestExamples(output, testExamples);
        FormatArtifact.WriteTestTexts(output, testTexts);
        File.Copy(filesJson, Path.Combine(output, FormatArtifact.FilesFile), overwrite: true);

        var train = new FormatReport.Split("train", trainRows.Count, trainExamples);
        var test = new FormatReport.Split("test", testRows.Count, testExamples);
        context.Progress.Log(train.Summary);
        context.Progress.Log(test.Summary);
        if (parameters.StripEmptyThink) context.Progress.Log($"{renderer.ThinkBlocksStripped} empty think blocks stripped");
        File.WriteAllText(Path.Combine(context.ReportDirectory, FormatReport.FileName),
            FormatReport.Build(train, test, trainTexts, Settings(parameters), parameters.Raft.Refusal));

        var metrics = new JsonObject
        {
            ["train"] = SplitMetrics(train),
            ["test"] = SplitMetrics(test),
            ["think_blocks_stripped"] = renderer.ThinkBlocksStripped,
        };
        return Task.FromResult(new StageOutcome(metrics));

        IReadOnlyList<ChatExample> Build(IReadOnlyList<DatasetRow> rows, string seedPurpose, string file, string split)
        {
            var options = ToOptions(parameters, DerivedSeed.For(context.Seed, seedPurpose));
            try
            {
                return RaftTransform.Build(rows, options);
            }
            catch (ArgumentException e)
            {
                // Distractors come from the split's own paragraphs (no train paragraph leaks into eval): say which split
                // ran short, or which parameter is out of range.
                throw new InvalidDataException($"{Path.Combine(data, file)}: the {split} split's {rows.Count} rows: {e.Message}", e);
            }
        }

        List<string> Render(IReadOnlyList<ChatExample> examples, string step)
        {
            var texts = new List<string>(examples.Count);
            foreach (var example in examples)
            {
                cancellationToken.ThrowIfCancellationRequested();
                texts.Add(renderer.Render(example));
                if (texts.Count % 500 == 0 || texts.Count == examples.Count) context.Progress.Report(step, texts.Count, examples.Count);
            }
            return texts;
        }
    }

    /// <summary>The spec's parameters as <see cref="FormatOptions"/> for one split, with that split's derived seed.</summary>
    public static FormatOptions ToOptions(FormatParameters p, ulong seed) => new()
    {
        SystemPrompt = p.SystemPrompt,
        UserTemplate = new UserTemplate(p.UserTemplate),
        RefusalAnswer = p.Raft.Refusal,
        Raft = ToRaft(p.Raft, seed),
    };

    private static RaftOptions ToRaft(SpecRaft r, ulong seed) => new()
    {
        DistractorCount = r.Distractors,
        OracleProbability = r.OracleProbability,
        RefuseWithoutOracle = true, // see the class remarks
        NegativeFraction = r.Negatives,
        Seed = seed,
        // Only synthesized negatives need mixing in; otherwise the load stage's (seeded) order stays, as in the notebook.
        ShuffleOutput = r.Negatives > 0,
    };

    private static JsonObject SplitMetrics(FormatReport.Split split) => new()
    {
        ["rows"] = split.Rows,
        ["examples"] = split.Examples.Count,
        ["negatives_synthesized"] = split.Negatives,
        ["oracles_dropped"] = split.OraclesDropped,
    };

    private static string Settings(FormatParameters p) =>
        string.Create(CultureInfo.InvariantCulture,
            $"system prompt: {(string.IsNullOrEmpty(p.SystemPrompt) ? "none" : "\"" + p.SystemPrompt.Replace("\n", "\\n", StringComparison.Ordinal) + "\"")}; " +
            $"RAFT: {p.Raft.Distractors} distractors, oracle kept with p = {p.Raft.OracleProbability}, " +
            $"negatives {p.Raft.Negatives} of the answerable rows; empty think block {(p.StripEmptyThink ? "stripped" : "kept")}");
}
