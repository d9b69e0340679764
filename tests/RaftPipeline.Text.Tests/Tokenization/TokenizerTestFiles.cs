using System.Text.Json;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Text.Tests.Tokenization;

/// <summary>Paths and the shared Qwen3 tokenizer (loaded once: building it takes most of a second).</summary>
internal static class TokenizerTestFiles
{
    static readonly Lazy<HuggingFaceTokenizer> s_qwen3 = new(HuggingFaceTokenizer.FromEmbeddedQwen3);
    static readonly Lazy<Dictionary<string, int>> s_qwen3Vocabulary = new(ReadQwen3Vocabulary);

    public static HuggingFaceTokenizer Qwen3 => s_qwen3.Value;

    /// <summary>model.vocab of the committed tokenizer.json, read here without our reader.</summary>
    public static Dictionary<string, int> Qwen3Vocabulary => s_qwen3Vocabulary.Value;

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Qwen3Directory => Path.Combine(RepoRoot, "src", "RaftPipeline.Text", "Assets", "Qwen3");

    public static string FixtureDirectory => Path.Combine(RepoRoot, "tests", "RaftPipeline.Text.Tests", "Fixtures", "tokenizer");

    /// <summary>corpus.jsonl: one JSON string per line ("\n"-separated; CR and U+2028 are escaped).</summary>
    public static IReadOnlyList<string> ReadCorpus()
    {
        var path = Path.Combine(FixtureDirectory, "corpus.jsonl");
        var lines = File.ReadAllText(path).Split('\n');
        return lines.Take(lines.Length - (lines[^1].Length == 0 ? 1 : 0))
            .Select((line, i) => JsonSerializer.Deserialize<string>(line)
                ?? throw new InvalidDataException($"{path}:{i + 1}: expected a JSON string"))
            .ToList();
    }

    static Dictionary<string, int> ReadQwen3Vocabulary()
    {
        using var stream = File.OpenRead(Path.Combine(Qwen3Directory, "tokenizer.json"));
        using var document = JsonDocument.Parse(stream);
        return document.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetInt32(), StringComparer.Ordinal);
    }

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RaftPipeline.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no RaftPipeline.sln above {AppContext.BaseDirectory}");
    }
}
