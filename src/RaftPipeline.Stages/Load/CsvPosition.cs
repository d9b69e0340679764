namespace RaftPipeline.Stages.Load;

/// <summary>
/// Names a place in CSV text as a spreadsheet would: the row (1-based, header = row 1, a quoted multi-line field
/// stays in its row) and the physical line an editor shows.
/// </summary>
public static class CsvPosition
{
    /// <summary>Describes the position right after <paramref name="textBefore"/>: "row 3 (line 4)".</summary>
    public static string Describe(string textBefore)
    {
        var (row, line) = Locate(textBefore);
        return $"row {row} (line {line})";
    }

    public static (int Row, int Line) Locate(string textBefore)
    {
        int row = 1, line = 1;
        bool quoted = false;
        for (int i = 0; i < textBefore.Length; i++)
        {
            char c = textBefore[i];
            if (c == '"')
            {
                // An escaped quote ("") toggles twice and leaves the state unchanged.
                quoted = !quoted;
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < textBefore.Length && textBefore[i + 1] == '\n') i++;
                line++;
                if (!quoted) row++;
            }
        }
        return (row, line);
    }
}
