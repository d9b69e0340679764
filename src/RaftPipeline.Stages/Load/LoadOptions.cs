namespace RaftPipeline.Stages.Load;

/// <summary>How the load stage reads, shuffles and splits its files. Defaults follow the notebook.</summary>
public sealed record LoadOptions
{
    /// <summary>The notebook's refusal: rows answered with exactly this are the unanswerable ones.</summary>
    public const string DefaultRefusal = "내가 그딴 걸 어떻게 알아?";

    public TextEncodingKind Encoding { get; init; } = TextEncodingKind.Auto;
    public DataFileFormat Format { get; init; } = DataFileFormat.Auto;
    public ColumnMapping Columns { get; init; } = new();
    public string RefusalAnswer { get; init; } = DefaultRefusal;

    /// <summary>Shuffle the rows of all files together (the notebook: <c>dataset.shuffle(seed=1234)</c>).</summary>
    public bool Shuffle { get; init; } = true;
    public ulong Seed { get; init; } = 1234;

    /// <summary>Keep only the first N rows after shuffling (quick runs on a subset); null keeps all.</summary>
    public int? Limit { get; init; }

    /// <summary>Share of rows held out for evaluation, in (0, 1); rounded up as Hugging Face datasets' train_test_split does.</summary>
    public double? TestFraction { get; init; }

    /// <summary>Number of rows held out for evaluation. Set at most one of this and <see cref="TestFraction"/>.</summary>
    public int? TestCount { get; init; }
}
