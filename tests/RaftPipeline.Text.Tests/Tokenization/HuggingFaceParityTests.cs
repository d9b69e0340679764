using System.Security.Cryptography;
using System.Text.Json;

namespace RaftPipeline.Text.Tests.Tokenization;

/// <summary>
/// Ids and decodes identical to Hugging Face `tokenizers` and transformers on the committed corpus. The
/// reference (expected.jsonl, meta.json) is made on the GPU machine by Fixtures/tokenizer/generate.py.
/// </summary>
public class HuggingFaceParityTests
{
    static string Fixture(string name)
    {
        var path = Path.Combine(TokenizerTestFiles.FixtureDirectory, name);
        Assert.True(File.Exists(path),
            $"missing reference fixture {path}: run `python tests/RaftPipeline.Text.Tests/Fixtures/tokenizer/generate.py " +
            "tests/RaftPipeline.Text.Tests/Fixtures/tokenizer` from the repo root on the machine with tokenizers and transformers");
        return path;
    }

    [Fact]
    public void Fixture_was_made_from_this_corpus_and_tokenizer()
    {
        using var meta = JsonDocument.Parse(File.ReadAllText(Fixture("meta.json")));
        var root = meta.RootElement;
        Assert.Equal(Sha256(Path.Combine(TokenizerTestFiles.FixtureDirectory, "corpus.jsonl")), root.GetProperty("corpus_sha256").GetString());
        Assert.Equal(Sha256(Path.Combine(TokenizerTestFiles.Qwen3Directory, "tokenizer.json")), root.GetProperty("tokenizer_json_sha256").GetString());
        Assert.Empty(root.GetProperty("mismatches").EnumerateArray());
    }

    [Fact]
    public void Special_token_ids_and_vocabulary_size_match_transformers()
    {
        using var meta = JsonDocument.Parse(File.ReadAllText(Fixture("meta.json")));
        var root = meta.RootElement;
        var tokenizer = TokenizerTestFiles.Qwen3;
        Assert.Equal(root.GetProperty("eos_token_id").GetInt32(), tokenizer.EosTokenId);
        Assert.Equal(root.GetProperty("pad_token_id").GetInt32(), tokenizer.PadTokenId);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("bos_token_id").ValueKind);
        Assert.Null(tokenizer.BosTokenId);
        Assert.Equal(root.GetProperty("len_transformers_tokenizer").GetInt32(), tokenizer.VocabularySize);
        var special = tokenizer.AddedTokens.Where(t => t.Special).Select(t => t.Id).Order().ToArray();
        Assert.Equal(root.GetProperty("all_special_ids").EnumerateArray().Select(e => e.GetInt32()).Order().ToArray(), special);
    }

    [Fact]
    public void Ids_past_the_vocabulary_decode_as_hugging_face_decodes_them()
    {
        using var meta = JsonDocument.Parse(File.ReadAllText(Fixture("meta.json")));
        var root = meta.RootElement;
        var ids = root.GetProperty("out_of_vocabulary_decode_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Contains(ids, id => id >= TokenizerTestFiles.Qwen3.VocabularySize);
        var expected = root.GetProperty("out_of_vocabulary_decode");
        Assert.Equal(expected.GetProperty("tokenizers").GetString(), TokenizerTestFiles.Qwen3.Decode(ids));
        Assert.Equal(expected.GetProperty("transformers").GetString(), TokenizerTestFiles.Qwen3.Decode(ids));
    }

    [Fact]
    public void Ids_and_decodes_match_hugging_face_on_every_corpus_line()
    {
        var corpus = TokenizerTestFiles.ReadCorpus();
        var rows = File.ReadAllLines(Fixture("expected.jsonl"));
        Assert.Equal(corpus.Count, rows.Length);
        var tokenizer = TokenizerTestFiles.Qwen3;
        var failures = new List<string>();
        for (var i = 0; i < rows.Length; i++)
        {
            using var row = JsonDocument.Parse(rows[i]);
            var r = row.RootElement;
            var text = r.GetProperty("text").GetString()!;
            Assert.Equal(corpus[i], text);
            var ids = r.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var hfIds = r.GetProperty("hf_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();

            var ours = tokenizer.Encode(text, addSpecialTokens: false);
            if (!ours.SequenceEqual(ids)) failures.Add($"line {i + 1} {Qwen3TokenizerTests.Escape(text)}: ids [{string.Join(",", ours)}], tokenizers [{string.Join(",", ids)}]");
            var oursWithSpecial = tokenizer.Encode(text, addSpecialTokens: true);
            if (!oursWithSpecial.SequenceEqual(hfIds)) failures.Add($"line {i + 1}: encode(add_special_tokens=True) [{string.Join(",", oursWithSpecial)}], transformers [{string.Join(",", hfIds)}]");
            var decoded = tokenizer.Decode(ids);
            if (decoded != r.GetProperty("decoded").GetString()) failures.Add($"line {i + 1}: decode {Qwen3TokenizerTests.Escape(decoded)}, transformers {r.GetProperty("decoded").GetRawText()}");
            var skipped = tokenizer.Decode(ids, skipSpecialTokens: true);
            if (skipped != r.GetProperty("decoded_skip_special").GetString()) failures.Add($"line {i + 1}: decode(skip_special_tokens) {Qwen3TokenizerTests.Escape(skipped)}, transformers {r.GetProperty("decoded_skip_special").GetRawText()}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} differences from Hugging Face:\n" + string.Join("\n", failures.Take(20)));
    }

    static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
