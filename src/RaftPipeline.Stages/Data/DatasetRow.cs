namespace RaftPipeline.Stages.Data;

/// <summary>
/// One example of the typed dataset the load stage produces: a paragraph, a question about it and the answer
/// to train on.
/// </summary>
/// <param name="Answerable">
/// False when the answer is the configured refusal (the notebook's RAG_Data_full_neg.csv rows): eval measures
/// refusals on these and answer style on the others.
/// </param>
/// <param name="Source">File name (not path: artifacts must not depend on where the data lived) the row came from.</param>
/// <param name="SourceRow">1-based CSV row (header = row 1) or JSONL line in <paramref name="Source"/>.</param>
public sealed record DatasetRow(
    string Context,
    string Question,
    string Answer,
    bool Answerable,
    string Source,
    int SourceRow);
