using RaftPipeline.Stages.Data;

namespace RaftPipeline.Stages.Load;

/// <summary>Builds a <see cref="DatasetRow"/> from mapped field values, with the checks CSV and JSONL share.</summary>
internal sealed class RowFactory(string file, string refusalAnswer)
{
    private readonly string _source = Path.GetFileName(file);

    /// <param name="where">"row 3 (line 4)" or "line 4", for messages.</param>
    public DatasetRow Create(int sourceRow, string where, string context, string question, string answer, ColumnMapping columns)
    {
        Require(context, columns.Context);
        Require(question, columns.Question);
        Require(answer, columns.Answer);
        return new DatasetRow(
            Normalize(context), Normalize(question), Normalize(answer),
            Answerable: Normalize(answer).Trim() != refusalAnswer,
            _source, sourceRow);

        void Require(string value, string column)
        {
            if (string.IsNullOrWhiteSpace(value))
                throw new DatasetLoadException($"{file}: {where}: column '{column}' is empty");
        }
    }

    /// <summary>
    /// CRLF inside a quoted field (a multi-line cell written on Windows) becomes LF: the tokenizer should not learn
    /// '\r' from where the file was saved.
    /// </summary>
    private static string Normalize(string value) => value.Replace("\r\n", "\n").Replace('\r', '\n');
}
