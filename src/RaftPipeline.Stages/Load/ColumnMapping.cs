namespace RaftPipeline.Stages.Load;

/// <summary>Which source column (CSV header name or JSONL key) feeds each field. Defaults are the notebook's columns.</summary>
public sealed record ColumnMapping(string Context = "context", string Question = "question", string Answer = "cot")
{
    public IEnumerable<(string Field, string Column)> Pairs()
    {
        yield return ("context", Context);
        yield return ("question", Question);
        yield return ("answer", Answer);
    }
}
