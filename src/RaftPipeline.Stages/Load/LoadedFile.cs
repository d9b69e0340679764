using RaftPipeline.Stages.Data;

namespace RaftPipeline.Stages.Load;

/// <summary>What one file contributed, for the stage's metrics and the run report.</summary>
/// <param name="Encoding">The encoding used, by its canonical name (cp949, utf-8, ...).</param>
/// <param name="EncodingHow">How it was chosen: "declared", "byte order mark", "valid UTF-8", ...</param>
/// <param name="EmptyRowsSkipped">Rows whose every field was empty or white space (blank lines included).</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the file's bytes as read, so model cards and reports name exactly the data trained on.</param>
public sealed record LoadedFile(
    string File,
    string Sha256,
    DataFileFormat Format,
    string Encoding,
    string EncodingHow,
    IReadOnlyList<DatasetRow> Rows,
    int EmptyRowsSkipped)
{
    public static string HashOf(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
}
