using CsvHelper;
using RaftPipeline.Core.Spec;
using RaftPipeline.Stages.Data;

namespace RaftPipeline.Stages.Load;

/// <summary>
/// Reads a CSV data file (RFC 4180: quoted fields may hold separators, quotes as "" and line breaks) into rows.
/// Decoding is done first, strictly (<see cref="StrictTextDecoder"/>); CsvHelper then parses the text.
/// </summary>
public static class CsvDatasetReader
{
    public static LoadedFile Read(string file, byte[] bytes, TextEncodingKind encoding, ColumnMapping columns, string refusalAnswer)
    {
        var decoded = StrictTextDecoder.Decode(file, bytes, encoding, CsvPosition.Describe);
        CsvMalformedRecord? malformed = null;
        var options = new CsvReaderOptions
        {
            // Never detected: a Korean paragraph full of '|' or ';' must not change how the file splits.
            Separator = ',',
            HasHeader = true,
            // Blank lines come back as records so they can be counted (and so RowNumber counts them, as a
            // spreadsheet does).
            SkipEmptyLines = false,
            TrackLineNumbers = true,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
            MalformedData = CsvMalformedDataHandling.Recover,
            OnMalformedRecord = record =>
            {
                // A stray quote inside an unquoted field (a 5" screen) is text, as Python's csv module reads it.
                if (record.Reason != CsvMalformedReason.StrayQuote) malformed ??= record;
            },
        };

        using var reader = CsvReader.FromText(decoded.Text, options);
        var header = ReadHeader(file, reader);
        int contextIndex = ColumnIndex(file, header, columns.Context, columns);
        int questionIndex = ColumnIndex(file, header, columns.Question, columns);
        int answerIndex = ColumnIndex(file, header, columns.Answer, columns);

        var factory = new RowFactory(file, refusalAnswer);
        var rows = new List<DatasetRow>();
        int empty = 0;
        while (reader.Read())
        {
            int row = checked((int)reader.RowNumber + 1); // + the header, so row numbers match a spreadsheet's
            string where = $"row {row} (line {reader.LineNumber})";
            if (malformed is { } bad)
                throw new DatasetLoadException($"{file}: row {bad.RecordNumber} (line {bad.LineNumber}): {Describe(bad.Reason)}");

            var fields = new string[reader.FieldCount];
            for (int i = 0; i < fields.Length; i++) fields[i] = reader.GetString(i) ?? "";
            if (fields.All(string.IsNullOrWhiteSpace))
            {
                empty++;
                continue;
            }
            if (fields.Length != header.Length)
                throw new DatasetLoadException(
                    $"{file}: {where}: {fields.Length} field{(fields.Length == 1 ? "" : "s")} but the header has {header.Length} columns");
            rows.Add(factory.Create(row, where, fields[contextIndex], fields[questionIndex], fields[answerIndex], columns));
        }
        if (malformed is { } last)
            throw new DatasetLoadException($"{file}: row {last.RecordNumber} (line {last.LineNumber}): {Describe(last.Reason)}");

        return new LoadedFile(file, LoadedFile.HashOf(bytes), DataFileFormat.Csv, TextEncodingNames.Display(decoded.Encoding), decoded.How, rows, empty);
    }

    private static string[] ReadHeader(string file, CsvReader reader)
    {
        reader.ReadHeader();
        var header = reader.Headers.Select(h => h.Trim()).ToArray();
        if (header.Length == 0 || header.All(h => h.Length == 0))
            throw new DatasetLoadException($"{file}: row 1 (line 1): expected a header row, found an empty file");
        var duplicate = header.Where(h => h.Length > 0).GroupBy(h => h, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new DatasetLoadException($"{file}: row 1 (line 1): the header names column '{QuotedText.Cut(duplicate.Key)}' more than once");
        return header;
    }

    private static int ColumnIndex(string file, string[] header, string column, ColumnMapping columns)
    {
        int index = Array.IndexOf(header, column);
        if (index >= 0) return index;
        var missing = columns.Pairs().Where(p => !header.Contains(p.Column)).Select(p => $"'{p.Column}' (for {p.Field})");
        // The header is quoted cut: a file read with the wrong encoding is one "column" holding the whole file.
        throw new DatasetLoadException(
            $"{file}: row 1 (line 1): missing column(s) {string.Join(", ", missing)}; " +
            $"the header has columns {QuotedText.List(header)}" +
            (header.Length == 1 && header[0].Length > QuotedText.MaxChars ? " (is the encoding right?)" : ""));
    }

    private static string Describe(CsvMalformedReason reason) => reason switch
    {
        CsvMalformedReason.UnterminatedQuote => "a quoted field is never closed (a missing \" would swallow the rest of the file)",
        CsvMalformedReason.TextAfterClosingQuote => "text after the closing quote of a quoted field (write a quote inside a quoted field as \"\")",
        CsvMalformedReason.LineBreakInQuotes => "a line break inside a quoted field",
        _ => $"malformed record ({reason})",
    };
}
