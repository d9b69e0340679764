using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RaftPipeline.Core.Spec.Stages;

/// <summary>Parameters of a <c>load</c> stage: CSV/JSONL files → a typed dataset of (context, question, answer) rows.</summary>
[Description("Reads CSV or JSONL files into rows of (context, question, answer); shuffles with a seed and optionally splits off a test set.")]
public sealed record LoadParameters : StageParameters, ICheckedParameters
{
    [Description("Text encoding of the files. 'auto' tries a BOM, then strict UTF-8, then cp949 only when it decodes cleanly.")]
    public TextEncoding Encoding { get; init; } = TextEncoding.Auto;

    [Description("File format; 'auto' decides by extension (.csv, .jsonl/.json).")]
    public DataFormat Format { get; init; } = DataFormat.Auto;

    [Description("Which source column feeds each field of a row.")]
    public ColumnMapping Columns { get; init; } = new();

    [Description("Shuffle the rows (after concatenating the files in order).")]
    public bool Shuffle { get; init; } = true;

    [Description("Seed of the shuffle; when absent, derived from the pipeline seed.")]
    public long? ShuffleSeed { get; init; }

    [Description("Size of the held-out test split: a fraction in (0, 1) or a whole number of rows. Absent: no split.")]
    [Range(0.0, double.MaxValue, MinimumIsExclusive = true)]
    public double? TestSize { get; init; }

    [Description("Keep at most this many rows (after shuffling, before splitting). Absent: all rows.")]
    [Range(1, int.MaxValue)]
    public int? Limit { get; init; }

    public IEnumerable<ParameterProblem> Check()
    {
        if (TestSize is >= 1 and var count && count != Math.Floor(count))
            yield return new("test_size", $"expected a fraction in (0, 1) or a whole number of rows, got {count}");
    }
}

/// <summary>Encodings the load stage decodes; Korean data often comes as cp949.</summary>
public enum TextEncoding
{
    Auto,
    [SpecName("utf-8")] Utf8,
    Cp949,
    [SpecName("euc-kr")] EucKr,
    [SpecName("utf-16")] Utf16,
}

/// <summary>Input file formats of the load stage.</summary>
public enum DataFormat { Auto, Csv, Jsonl }

/// <summary>Source column names for each row field (the seed notebook's columns are context, question, cot).</summary>
public sealed record ColumnMapping
{
    [Description("Column holding the retrieved context passage.")]
    public string Context { get; init; } = "context";

    [Description("Column holding the question.")]
    public string Question { get; init; } = "question";

    [Description("Column holding the answer the model learns to give.")]
    public string Answer { get; init; } = "cot";
}
