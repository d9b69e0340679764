using System.Security.Cryptography;
using System.Text.Json;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Text.Tests.Tokenization;

/// <summary>
/// Ids and decodes identical to Hugging Face for tokenizer families other than Qwen3, on tokenizers trained by
/// Fixtures/tokenizer_families/generate.py on the GPU machine (tokenizers + transformers): Llama-3-style
/// byte-level BPE with and without ignore_merges, and Llama-2-style SentencePiece BPE with byte fallback.
/// </summary>
public class TokenizerFamilyParityTests
{
    public static string FixtureDirectory =>
        Path.Combine(TokenizerTestFiles.RepoRoot, "tests", "RaftPipeline.Text.Tests", "Fixtures", "tokenizer_families");

    static string Fixture(string relativePath)
    {
        var path = Path.Combine(FixtureDirectory, relativePath);
        Assert.True(File.Exists(path),
            $"missing reference fixture {path}: run `python tests/RaftPipeline.Text.Tests/Fixtures/tokenizer_families/generate.py " +
            "tests/RaftPipeline.Text.Tests/Fixtures/tokenizer_families` from the repo root on the machine with tokenizers 0.23 and transformers 5.17");
        return path;
    }

    static JsonElement Meta()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Fixture("meta.json")));
        return document.RootElement.Clone();
    }

    static HuggingFaceTokenizer Load(string style)
    {
        Fixture(Path.Combine(style, "tokenizer.json"));
        Fixture(Path.Combine(style, "tokenizer_config.json"));
        return HuggingFaceTokenizer.FromDirectory(Path.Combine(FixtureDirectory, style));
    }

    static List<JsonElement> Rows(string style) =>
        File.ReadAllLines(Fixture("expected.jsonl"))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(row => row.GetProperty("style").GetString() == style)
            .ToList();

    static int[] Ids(JsonElement row, string name) => row.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();

    public static readonly string[] StyleNames = ["llama3", "llama3_bpe", "sentencepiece"];

    public static TheoryData<string> Styles => new(StyleNames);

    [Fact]
    public void Fixture_was_made_from_this_corpus_and_the_libraries_agreed()
    {
        var meta = Meta();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(TokenizerTestFiles.FixtureDirectory, "corpus.jsonl")))),
            meta.GetProperty("corpus_sha256").GetString());
        Assert.Empty(meta.GetProperty("disagreements").EnumerateArray());
        foreach (var style in StyleNames)
        {
            var expected = meta.GetProperty("styles").GetProperty(style).GetProperty("tokenizer_json_sha256").GetString();
            Assert.Equal(expected, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Fixture(Path.Combine(style, "tokenizer.json"))))));
        }
    }

    [Theory]
    [MemberData(nameof(Styles))]
    public void Special_token_ids_and_vocabulary_size_match_transformers(string style)
    {
        var facts = Meta().GetProperty("styles").GetProperty(style);
        var tokenizer = Load(style);
        Assert.Equal(facts.GetProperty("bos_token_id").GetInt32(), tokenizer.BosTokenId);
        Assert.Equal(facts.GetProperty("eos_token_id").GetInt32(), tokenizer.EosTokenId);
        Assert.Equal(facts.GetProperty("len_transformers_tokenizer").GetInt32(), tokenizer.VocabularySize);
        // transformers 5's all_special_ids are the named ones (bos, eos, unk, pad, extra_special_tokens); every one of
        // them is a special added token here. Added tokens flagged special beyond those are skipped by
        // decode(skip_special_tokens=True) all the same, which the decode parity test checks.
        var special = tokenizer.AddedTokens.Where(t => t.Special).Select(t => t.Id).ToHashSet();
        Assert.All(facts.GetProperty("all_special_ids").EnumerateArray().Select(e => e.GetInt32()), id => Assert.Contains(id, special));
    }

    [Theory]
    [MemberData(nameof(Styles))]
    public void Ids_and_decodes_match_hugging_face_on_every_test_string(string style)
    {
        var meta = Meta();
        var texts = TokenizerTestFiles.ReadCorpus()
            .Concat(meta.GetProperty("extra_test_texts").EnumerateArray().Select(e => e.GetString()!)).ToList();
        var rows = Rows(style);
        Assert.Equal(texts.Count, rows.Count);
        var tokenizer = Load(style);
        var failures = new List<string>();
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var text = row.GetProperty("text").GetString()!;
            Assert.Equal(texts[i], text);
            var where = $"{style} line {i + 1} {Qwen3TokenizerTests.Escape(text)}";
            var hfIds = Ids(row, "hf_ids");
            CompareIds(where, "encode(add_special_tokens=False)", Ids(row, "ids"), tokenizer.Encode(text, addSpecialTokens: false));
            CompareIds(where, "encode(add_special_tokens=True)", hfIds, tokenizer.Encode(text, addSpecialTokens: true));
            CompareText(where, "decode", row.GetProperty("decoded").GetString()!, tokenizer.Decode(hfIds));
            CompareText(where, "decode(skip_special_tokens=True)", row.GetProperty("decoded_skip_special").GetString()!,
                tokenizer.Decode(hfIds, skipSpecialTokens: true));
        }
        Assert.True(failures.Count == 0, $"{failures.Count} differences from Hugging Face:\n" + string.Join("\n", failures.Take(20)));

        void CompareIds(string where, string what, int[] expected, int[] actual)
        {
            if (!expected.SequenceEqual(actual))
                failures.Add($"{where}: {what}: ours [{string.Join(",", actual)}], Hugging Face [{string.Join(",", expected)}]");
        }

        void CompareText(string where, string what, string expected, string actual)
        {
            if (expected != actual)
                failures.Add($"{where}: {what}: ours {Qwen3TokenizerTests.Escape(actual)}, Hugging Face {Qwen3TokenizerTests.Escape(expected)}");
        }
    }

    [Fact]
    public void The_fixture_exercises_ignore_merges_and_byte_fallback()
    {
        Assert.NotEmpty(Meta().GetProperty("injected_words").EnumerateArray());
        Assert.True(Load("llama3").Definition.IgnoreMerges);
        Assert.False(Load("llama3_bpe").Definition.IgnoreMerges);
        var withShortcut = Rows("llama3");
        var plain = Rows("llama3_bpe");
        Assert.Contains(Enumerable.Range(0, withShortcut.Count), i => !Ids(withShortcut[i], "ids").SequenceEqual(Ids(plain[i], "ids")));

        var sentencePiece = Load("sentencepiece");
        Assert.True(sentencePiece.Definition.ByteFallback);
        var byteIds = Enumerable.Range(0, 256).Select(b => sentencePiece.TokenToId($"<0x{b:X2}>")!.Value).ToHashSet();
        Assert.Contains(Rows("sentencepiece"), row => Ids(row, "ids").Any(byteIds.Contains));
    }
}
