using System.Text;
using System.Text.Json.Nodes;
using LLama;
using LLama.Common;
using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Tests.Support;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Tokenization;
using Xunit.Abstractions;

namespace RaftPipeline.Export.Tests;

/// <summary>
/// SentencePiece-style tokenizers (the family fixtures' own, chat_fixtures.py) exported as llama.cpp's "llama" (SPM)
/// vocabulary with scores derived from the merge ranks: llama.cpp's tokenizer on the exported GGUF gives the ids our
/// HuggingFaceTokenizer gives, on a varied text set and on the chat prompt, and the F32 model's greedy tokens are ours.
/// </summary>
public sealed class SentencePieceExportTests(ITestOutputHelper output)
{
    const int NewTokens = 16;

    static readonly Dictionary<string, string[]> Specials = new()
    {
        ["gemma2_spm"] = ["<bos>", "<eos>", "<pad>", "<unk>", "<start_of_turn>", "<end_of_turn>"],
        ["mistral_spm"] = ["<s>", "</s>", "<unk>", "[INST]", "[/INST]"],
        ["phi3_spm"] = ["<s>", "</s>", "<unk>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<|endoftext|>"],
    };

    static readonly string[] FixedTexts =
    [
        "Hello world", " leading space", "  two leading spaces", "trailing spaces  ", "a  b   c    d", " ", "  ", "\n", " \n ",
        "line one\nline two\n\nline four\n", "The quick brown fox jumps over the lazy dog.",
        "What is the capital of France? Paris is the capital and the largest city of France.",
        "Fine-tuning adds small matrices to each projection of the model; the base weights stay frozen.",
        "as on an ist st ast asst onon stist", "the theme then there, they: The THE tHe",
        "tool: 12 + 34 = 46 ~`|{}[]()<>@#$%^&*_\\/'\"", "a\u2581b \u2581\u2581c\u2581", "page 12, 2026-01-01.",
    ];

    /// <summary>Fixed texts, then deterministic random ones: words of the fixture's training text, single printable
    /// characters, runs of spaces and newlines, and the family's special tokens, mixed (every character is in the vocabulary).</summary>
    static List<string> Texts(string family)
    {
        var words = "You are a helpful assistant Answer the question from document only and say so when it is not there user asks about weather model answers with what says Today Date capital France Paris largest city Fine-tuning adds small matrices to each projection of base weights stay frozen quick brown fox jumps over lazy dog She said that they will finish report on Friday system tool second section page Hello How you today fine thank Tell me short story cat"
            .Split(' ');
        var specials = Specials[family];
        var texts = new List<string>(FixedTexts);
        texts.AddRange(specials.Select(s => $"{s}Hello {s} world{s}\n{s}  x"));
        var random = new Random(15);
        for (int n = 0; n < 300; n++)
        {
            var sb = new StringBuilder();
            int pieces = random.Next(1, 14);
            for (int p = 0; p < pieces; p++)
            {
                int kind = random.Next(10);
                sb.Append(kind switch
                {
                    < 5 => words[random.Next(words.Length)],
                    5 => ((char)random.Next(33, 127)).ToString(),
                    6 => new string(' ', random.Next(1, 4)),
                    7 => random.Next(2) == 0 ? "\n" : "\n\n",
                    8 => specials[random.Next(specials.Length)],
                    _ => words[random.Next(words.Length)].ToLowerInvariant() + words[random.Next(words.Length)],
                });
                if (random.Next(3) > 0) sb.Append(' ');
            }
            texts.Add(sb.ToString());
        }
        return texts;
    }

    [Theory]
    [InlineData("gemma2_spm", false)]
    [InlineData("mistral_spm", true)]
    [InlineData("phi3_spm", true)]
    public void Llama_cpp_tokenizes_as_we_do_and_the_f32_model_gives_our_greedy_tokens(string family, bool spacePrefix)
    {
        var folder = ModelFolders.Folder(family);
        var result = GgufExport.Run(new GgufExportRequest(folder, ModelFolders.NewTempDirectory(family), GgufFileType.F32));
        var ours = HuggingFaceTokenizer.FromDirectory(folder);
        using var llama = new LlamaCpp(result.ModelPath);
        Assert.Equal("llama", llama.Metadata["tokenizer.ggml.model"]);
        Assert.Equal(spacePrefix.ToString().ToLowerInvariant(), llama.Metadata["tokenizer.ggml.add_space_prefix"]);
        // The fixtures have no byte fallback: the artifact says where llama.cpp parts from the model's tokenizer.
        var record = JsonNode.Parse(File.ReadAllText(result.ManifestPath))!["tokenizer"]!;
        Assert.Equal("llama", (string)record["model"]!);
        Assert.Contains("no byte fallback", (string)record["note"]!);

        var texts = Texts(family);
        int tokens = 0;
        foreach (var t in texts)
        {
            var expected = ours.Encode(t, addSpecialTokens: false);
            var actual = llama.Tokenize(t, addBos: false, special: true);
            Assert.True(expected.SequenceEqual(actual),
                $"{family} \"{t.ReplaceLineEndings("\\n")}\": ours [{string.Join(' ', expected)}], llama.cpp [{string.Join(' ', actual)}]");
            // The add-BOS flag: ours from tokenizer_config.json, llama.cpp's from the GGUF.
            Assert.Equal(ours.Encode(t, addSpecialTokens: true), llama.Tokenize(t, addBos: true, special: true));
            tokens += expected.Length;
        }
        output.WriteLine($"{family}: {texts.Count} texts, {tokens} tokens, same ids");

        // The chat prompt (the folder's template, rendered by ours) tokenizes the same, and the model answers the same.
        var text = ChatTemplate.FromModelFolder(folder).Render(ChatConversation.FromMessages(
        [
            new ChatMessage("system", "You are a helpful assistant."),
            new ChatMessage("user", "What is the capital of France?  Answer from the document,\nplease."),
        ]), addGenerationPrompt: true);
        var prompt = ours.Encode(text, addSpecialTokens: false);
        Assert.Equal(prompt, llama.Tokenize(text, addBos: false, special: true));
        var greedy = Ours.Greedy(folder, prompt, NewTokens);
        var theirs = llama.Greedy(prompt, NewTokens);
        output.WriteLine($"{family}: prompt {prompt.Length} ids; ours {string.Join(' ', greedy)}; llama.cpp {string.Join(' ', theirs)}");
        Assert.True(greedy.Count > 0);
        LlamaCppParityTests.AssertSameGreedy(folder, greedy, theirs);
    }

    /// <summary>Byte fallback: the mistral fixture's tokenizer with the 256 &lt;0xNN&gt; tokens added (ids 256-511,
    /// byte_fallback on, vocab_size 512 in config.json; the weights are not read, llama.cpp loads the vocabulary only).
    /// Characters outside the vocabulary (Hangul, emoji, accents, CJK) become their UTF-8 bytes in both.</summary>
    [Fact]
    public void Byte_fallback_tokens_are_llama_cpps_byte_tokens()
    {
        var source = ModelFolders.Folder("mistral_spm");
        var folder = ModelFolders.NewTempDirectory("spm-bytes");
        foreach (var f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
        var configPath = Path.Combine(folder, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["vocab_size"] = 512;
        File.WriteAllText(configPath, config.ToJsonString());
        var tokenizerPath = Path.Combine(folder, "tokenizer.json");
        var tokenizer = JsonNode.Parse(File.ReadAllText(tokenizerPath))!.AsObject();
        var model = tokenizer["model"]!.AsObject();
        for (int b = 0; b < 256; b++) model["vocab"]![$"<0x{b:X2}>"] = 256 + b;
        model["byte_fallback"] = true;
        tokenizer["decoder"]!["decoders"]!.AsArray().Insert(1, new JsonObject { ["type"] = "ByteFallback" });
        File.WriteAllText(tokenizerPath, tokenizer.ToJsonString());

        var result = GgufExport.Run(new GgufExportRequest(folder, Path.Combine(folder, "out"), GgufFileType.F32));
        var ours = HuggingFaceTokenizer.FromDirectory(folder);

        // What the file says: types BYTE for <0xNN>, UNKNOWN for <unk>, CONTROL for the special tokens, NORMAL else;
        // a merged token scores minus its merge's rank, a token no merge makes less than every merged one.
        var header = GgufHeader.Read(result.ModelPath).Metadata;
        var tokens = ((object[])header["tokenizer.ggml.tokens"]).Cast<string>().ToList();
        var types = ((object[])header["tokenizer.ggml.token_type"]).Cast<int>().ToList();
        var scores = ((object[])header["tokenizer.ggml.scores"]).Cast<float>().ToList();
        Assert.Equal(512, tokens.Count);
        Assert.Equal(Enumerable.Repeat(6, 256), types.Skip(256));
        Assert.Equal(2, types[tokens.IndexOf("<unk>")]);
        Assert.All(new[] { "<s>", "</s>", "[INST]", "[/INST]" }, t => Assert.Equal(3, types[tokens.IndexOf(t)]));
        Assert.Equal(1, types[tokens.IndexOf("a")]);
        var merges = ours.Definition.Merges;
        for (int rank = 0; rank < merges.Count; rank++)
            Assert.Equal(-rank, scores[tokens.IndexOf(merges[rank].Replace(" ", ""))]);
        Assert.Equal(-(merges.Count + 1), scores[tokens.IndexOf("a")]);
        Assert.Null(result.Manifest["tokenizer"]!["note"]);

        using var weights = LLamaWeights.LoadFromFile(new ModelParams(result.ModelPath) { VocabOnly = true, GpuLayerCount = 0 });
        string[] texts =
        [
            "한국어", "What is the capital of Korea? 12345 tokens, 한국어.", "emoji \U0001F600\U0001F680 end", "café naïve über",
            "日本語のテキスト", " \u00A0 non-breaking", "[INST] 안녕하세요 [/INST] \U0001F44B</s>", "mixed\n한\n\nx é",
        ];
        int bytes = 0;
        foreach (var text in texts)
        {
            var expected = ours.Encode(text, addSpecialTokens: false);
            var actual = weights.NativeHandle.Tokenize(text, false, true, Encoding.UTF8).Select(t => (int)t).ToArray();
            Assert.True(expected.SequenceEqual(actual),
                $"\"{text}\": ours [{string.Join(' ', expected)}], llama.cpp [{string.Join(' ', actual)}]");
            bytes += expected.Count(id => id >= 256);
        }
        output.WriteLine($"{texts.Length} texts, {bytes} byte tokens, same ids");
        Assert.True(bytes > 40, $"only {bytes} byte tokens");
    }

    /// <summary>Gemma's released tokenizer.json also has a Split(" ", MergedWithPrevious) pre-tokenizer, a no-op after its
    /// normalizer replaced every space: read as none, exported, and tokenized by llama.cpp as by us (and as without it).</summary>
    [Fact]
    public void Gemmas_released_no_op_space_split_is_exported()
    {
        var source = ModelFolders.Folder("gemma2_spm");
        var folder = ModelFolders.NewTempDirectory("spm-gemma-split");
        foreach (var f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
        var tokenizerPath = Path.Combine(folder, "tokenizer.json");
        var tokenizer = JsonNode.Parse(File.ReadAllText(tokenizerPath))!.AsObject();
        tokenizer["pre_tokenizer"] = new JsonObject
        {
            ["type"] = "Split", ["pattern"] = new JsonObject { ["String"] = " " }, ["behavior"] = "MergedWithPrevious", ["invert"] = false,
        };
        File.WriteAllText(tokenizerPath, tokenizer.ToJsonString());

        var result = GgufExport.Run(new GgufExportRequest(folder, Path.Combine(folder, "out"), GgufFileType.F32));
        var ours = HuggingFaceTokenizer.FromDirectory(folder);
        var without = HuggingFaceTokenizer.FromDirectory(source);
        using var weights = LLamaWeights.LoadFromFile(new ModelParams(result.ModelPath) { VocabOnly = true, GpuLayerCount = 0 });
        foreach (var text in Texts("gemma2_spm").Take(80))
        {
            var expected = ours.Encode(text, addSpecialTokens: false);
            Assert.Equal(without.Encode(text, addSpecialTokens: false), expected);
            Assert.Equal(expected, weights.NativeHandle.Tokenize(text, false, true, Encoding.UTF8).Select(t => (int)t));
        }
    }
}
