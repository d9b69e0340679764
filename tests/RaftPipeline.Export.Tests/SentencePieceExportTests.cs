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
    public void Llama_cpp_tokenizes_as_we_do_and_the_f32_model_gives_our_greedy_tokens(string family, bool spacePrefix)
    {
        var folder = ModelFolders.Folder(family);
        var result = GgufExport.Run(new GgufExportRequest(folder, ModelFolders.NewTempDirectory(family), GgufFileType.F32));
        var ours = HuggingFaceTokenizer.FromDirectory(folder);
        using var llama = new LlamaCpp(result.ModelPath);
        Assert.Equal("llama", llama.Metadata["tokenizer.ggml.model"]);
        Assert.Equal(spacePrefix.ToString().ToLowerInvariant(), llama.Metadata["tokenizer.ggml.add_space_prefix"]);

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
}
