using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Stages.Data;

namespace RaftPipeline.Stages.Load;

/// <summary>
/// The load stage's artifact folder: <c>train.jsonl</c> and <c>test.jsonl</c> (<see cref="DatasetJsonl"/>; test is
/// empty without a split) and <c>files.json</c>, what each input file contributed.
/// </summary>
public static class LoadArtifact
{
    public const string TrainFile = "train.jsonl";
    public const string TestFile = "test.jsonl";
    public const string FilesFile = "files.json";

    public static void Write(string directory, LoadResult result)
    {
        DatasetJsonl.Write(Path.Combine(directory, TrainFile), result.Train);
        DatasetJsonl.Write(Path.Combine(directory, TestFile), result.Test);
        File.WriteAllText(Path.Combine(directory, FilesFile),
            FilesJson(result).ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
    }

    public static IReadOnlyList<DatasetRow> ReadTrain(string directory) => DatasetJsonl.Read(Existing(directory, TrainFile, "the train split"));
    public static IReadOnlyList<DatasetRow> ReadTest(string directory) => DatasetJsonl.Read(Existing(directory, TestFile, "the test split (empty without one)"));

    /// <summary>The path of files.json in a load artifact, checked to exist (consumers copy it as it is).</summary>
    public static string FilesPath(string directory) => Existing(directory, FilesFile, "what each input file contributed");

    private static string Existing(string directory, string file, string what)
    {
        string path = Path.Combine(directory, file);
        return File.Exists(path) ? path : throw new DatasetFormatException($"{path}: missing: the load stage writes {what} there");
    }

    /// <summary>
    /// Per file: name (not path: the artifact must not depend on where the data lived), the SHA-256 of its bytes, encoding,
    /// rows, empty rows.
    /// </summary>
    public static JsonArray FilesJson(LoadResult result) =>
        new(result.Files.Select(f => (JsonNode)new JsonObject
        {
            ["file"] = Path.GetFileName(f.File),
            ["sha256"] = f.Sha256,
            ["format"] = f.Format.ToString().ToLowerInvariant(),
            ["encoding"] = f.Encoding,
            ["encoding_how"] = f.EncodingHow,
            ["rows"] = f.Rows.Count,
            ["answerable"] = f.Rows.Count(r => r.Answerable),
            ["empty_rows_skipped"] = f.EmptyRowsSkipped,
        }).ToArray());
}
