using RaftPipeline.Stages.Data;

namespace RaftPipeline.Stages.Load;

/// <summary>
/// The load stage as a pure function: files (in the given order) → rows, concatenated, shuffled with the seed,
/// cut to the limit, then split (test = the last rows of the shuffled order).
/// </summary>
public static class DatasetLoader
{
    public static LoadResult Load(IReadOnlyList<string> files, LoadOptions options)
    {
        Validate(files, options);
        var loaded = files.Select(file => ReadFile(file, options)).ToList();
        var rows = loaded.SelectMany(f => f.Rows).ToList();
        // Said here, about the data files, rather than by a later stage about the cached artifact it would read.
        if (rows.Count == 0)
            throw new DatasetLoadException(string.Join("; ", loaded.Select(f =>
                $"{f.File}: no data rows ({(f.Format == DataFileFormat.Csv ? "only a header row" : "no records")}" +
                $"{(f.EmptyRowsSkipped > 0 ? $" and {f.EmptyRowsSkipped} blank row{(f.EmptyRowsSkipped == 1 ? "" : "s")}" : "")})")) +
                "; expected at least one row to train on");
        if (options.Shuffle) DeterministicShuffle.InPlace(rows, new SplitMix64(options.Seed));
        if (options.Limit is int limit && limit < rows.Count) rows = rows.Take(limit).ToList();

        int testCount = TestCount(rows.Count, options);
        var train = rows.Take(rows.Count - testCount).ToList();
        var test = rows.Skip(rows.Count - testCount).ToList();
        return new LoadResult(train, test, loaded);
    }

    public static LoadedFile ReadFile(string file, LoadOptions options)
    {
        if (!File.Exists(file)) throw new DatasetLoadException($"{file}: no such file");
        var bytes = File.ReadAllBytes(file);
        return FormatOf(file, options.Format) == DataFileFormat.Jsonl
            ? JsonlDatasetReader.Read(file, bytes, options.Encoding, options.Columns, options.RefusalAnswer)
            : CsvDatasetReader.Read(file, bytes, options.Encoding, options.Columns, options.RefusalAnswer);
    }

    public static DataFileFormat FormatOf(string file, DataFileFormat declared) =>
        declared != DataFileFormat.Auto ? declared
        : Path.GetExtension(file).ToLowerInvariant() is ".jsonl" or ".ndjson" or ".json" ? DataFileFormat.Jsonl
        : DataFileFormat.Csv;

    private static int TestCount(int rows, LoadOptions options)
    {
        int count = options.TestFraction is double fraction
            // Rounded up as datasets.Dataset.train_test_split (n_test = ceil(test_size * n_samples)), with a tolerance
            // so that 0.7 of 10 rows is 7 and not the 8 that 7.000000000000001 would round up to.
            ? (int)Math.Ceiling(fraction * rows - 1e-9)
            : options.TestCount ?? 0;
        if (count >= rows && count > 0)
            throw new DatasetLoadException(
                $"the test split takes {count} of {rows} rows and leaves none to train on; lower test_fraction/test_count");
        return count;
    }

    private static void Validate(IReadOnlyList<string> files, LoadOptions options)
    {
        if (files.Count == 0) throw new DatasetLoadException("load: no data files given");
        if (options.TestFraction is not null && options.TestCount is not null)
            throw new DatasetLoadException("load: set test_fraction or test_count, not both");
        if (options.TestFraction is double f && !(f > 0 && f < 1))
            throw new DatasetLoadException($"load: test_fraction must be in (0, 1), got {f}");
        if (options.TestCount is < 0)
            throw new DatasetLoadException($"load: test_count must not be negative, got {options.TestCount}");
        if (options.Limit is < 1)
            throw new DatasetLoadException($"load: limit must be at least 1, got {options.Limit}");
    }
}
