using RaftPipeline.Stages.Data;

namespace RaftPipeline.Stages.Load;

/// <summary>The loaded dataset: train rows, held-out rows (empty without a split) and what each file contributed.</summary>
public sealed record LoadResult(
    IReadOnlyList<DatasetRow> Train,
    IReadOnlyList<DatasetRow> Test,
    IReadOnlyList<LoadedFile> Files)
{
    public int EmptyRowsSkipped => Files.Sum(f => f.EmptyRowsSkipped);
    public int RowsRead => Files.Sum(f => f.Rows.Count);
}
