using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using SpecColumns = RaftPipeline.Core.Spec.Stages.ColumnMapping;

namespace RaftPipeline.Stages.Load;

/// <summary>The <c>load</c> stage: maps <see cref="LoadParameters"/> onto <see cref="LoadOptions"/> and runs <see cref="DatasetLoader"/>.</summary>
public sealed class LoadStageExecutor : IStageExecutor
{
    public const string FilesSlot = "files";

    public string Kind => "load";

    /// <summary>
    /// 1: strict decoding, SplitMix64 Fisher–Yates shuffle, test split from the end of the shuffled order.
    /// 2: files.json gives each file's sha256.
    /// </summary>
    public int Version => 2;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        var parameters = context.Parameters<LoadParameters>();
        if (!context.Inputs.TryGetValue(FilesSlot, out var files) || files.Count == 0)
            throw new InvalidOperationException($"stage '{context.Stage.Name}' has no input files in slot '{FilesSlot}'");

        var result = DatasetLoader.Load(files, ToOptions(parameters, context.Seed));
        cancellationToken.ThrowIfCancellationRequested();
        LoadArtifact.Write(context.OutputDirectory, result);

        foreach (var file in result.Files)
            context.Progress.Log($"{Path.GetFileName(file.File)}: {file.Rows.Count} rows ({file.Rows.Count(r => r.Answerable)} answerable), " +
                $"{file.Encoding} ({file.EncodingHow}), {file.EmptyRowsSkipped} empty rows skipped");
        context.Progress.Log($"train {result.Train.Count} rows, test {result.Test.Count} rows");

        var metrics = new JsonObject
        {
            ["rows_read"] = result.RowsRead,
            ["rows_train"] = result.Train.Count,
            ["rows_test"] = result.Test.Count,
            ["answerable_train"] = result.Train.Count(r => r.Answerable),
            ["answerable_test"] = result.Test.Count(r => r.Answerable),
            ["empty_rows_skipped"] = result.EmptyRowsSkipped,
            ["files"] = LoadArtifact.FilesJson(result),
        };
        return Task.FromResult(new StageOutcome(metrics));
    }

    public static LoadOptions ToOptions(LoadParameters p, long pipelineSeed) => new()
    {
        Encoding = p.Encoding switch
        {
            TextEncoding.Auto => TextEncodingKind.Auto,
            TextEncoding.Utf8 => TextEncodingKind.Utf8,
            TextEncoding.Utf16 => TextEncodingKind.Utf16,
            TextEncoding.Cp949 => TextEncodingKind.Cp949,
            TextEncoding.EucKr => TextEncodingKind.EucKr,
            _ => throw new ArgumentOutOfRangeException(nameof(p), p.Encoding, "unknown encoding"),
        },
        Format = p.Format switch
        {
            DataFormat.Auto => DataFileFormat.Auto,
            DataFormat.Csv => DataFileFormat.Csv,
            DataFormat.Jsonl => DataFileFormat.Jsonl,
            _ => throw new ArgumentOutOfRangeException(nameof(p), p.Format, "unknown format"),
        },
        Columns = Map(p.Columns),
        Shuffle = p.Shuffle,
        // The seed's bits as they are: -1 and ulong.MaxValue are the same shuffle, on every machine.
        Seed = unchecked((ulong)(p.ShuffleSeed ?? pipelineSeed)),
        Limit = p.Limit,
        // test_size below 1 is a fraction, a whole number from 1 up a row count (the record checks which).
        TestFraction = p.TestSize is < 1 and var fraction ? fraction : null,
        TestCount = p.TestSize is >= 1 and var count ? (int)count : null,
    };

    private static ColumnMapping Map(SpecColumns c) => new(c.Context, c.Question, c.Answer);
}
