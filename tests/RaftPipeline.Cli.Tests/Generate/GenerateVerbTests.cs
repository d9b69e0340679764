using RaftPipeline.Modeling.Chat;
using System.Text.Json;
using RaftPipeline.Cli.Commands.Generate;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Presets;
using RaftPipeline.Modeling.Quantization;
using TorchSharp;
using RaftPipeline.Text.Templates;

namespace RaftPipeline.Cli.Tests.Generate;

[Collection(TinyModelCollection.Name)]
public sealed class GenerateVerbTests(TinyModelFixture tiny)
{
    const string ChatPrompt = "<|im_start|>user\n안녕하세요, 오늘 날씨 어때요?<|im_end|>\n<|im_start|>assistant\n";

    static (int[] PromptIds, int[] GeneratedIds, string Text, string Prompt, string Finish) ParseJson(string stdout)
    {
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines); // one JSON object, nothing else on stdout
        using var doc = JsonDocument.Parse(lines[0]);
        var root = doc.RootElement;
        return (
            root.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            root.GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            root.GetProperty("text").GetString()!,
            root.GetProperty("prompt").GetString()!,
            root.GetProperty("finish_reason").GetString()!);
    }

    [Fact]
    public void Json_greedy_ids_equal_a_direct_TextGenerator_call()
    {
        var (exit, stdout, stderr) = TinyModelFixture.Raft("generate", "--model", tiny.ModelDir, "--prompt", ChatPrompt,
            "--greedy", "--max-new-tokens", "6", "--device", "cpu", "--json");
        Assert.Equal("", stderr);
        Assert.Equal(0, exit);
        var json = ParseJson(stdout);

        // Verbatim prompt, special tokens recognised as single ids.
        Assert.Equal(tiny.Tokenizer.Encode(ChatPrompt), json.PromptIds);
        Assert.Equal(TinyPreset.ImStartId, json.PromptIds[0]);
        Assert.Equal(ChatPrompt, json.Prompt);

        var direct = tiny.DirectGenerate(json.PromptIds, TinyModelFixture.Options(6));
        Assert.Equal(direct, json.GeneratedIds);
        Assert.NotEmpty(json.GeneratedIds);
        Assert.Equal(StreamingDecoder.Decode(tiny.Tokenizer, direct), json.Text);
        Assert.Equal(direct.Count == 6 && !direct.Contains(TinyPreset.ImEndId) ? "length" : "eos", json.Finish);
    }

    [Fact]
    public void Streamed_text_equals_the_decode_of_the_generated_ids()
    {
        var args = new[] { "generate", "--model", tiny.ModelDir, "--prompt", ChatPrompt, "--greedy", "--max-new-tokens", "12", "--device", "cpu" };
        var streamed = TinyModelFixture.Raft(args);
        var json = ParseJson(TinyModelFixture.Raft([.. args, "--json"]).Out);
        Assert.Equal(0, streamed.Exit);
        Assert.NotEmpty(json.GeneratedIds);
        Assert.Equal(StreamingDecoder.Decode(tiny.Tokenizer, json.GeneratedIds) + "\n", streamed.Out.Replace("\r\n", "\n"));
    }

    [Fact]
    public void Messages_file_is_rendered_with_the_chat_template_and_the_assistant_turn_opened()
    {
        var conv = Path.Combine(tiny.Root, "conv-ok.json");
        File.WriteAllText(conv, """
            [
              {"role": "system", "content": "당신은 친절한 도우미입니다."},
              {"role": "user", "content": "서울의 수도는?"}
            ]
            """);
        var (exit, stdout, stderr) = TinyModelFixture.Raft("generate", "--model", tiny.ModelDir, "--messages", conv,
            "--greedy", "--max-new-tokens", "3", "--device", "cpu", "--json");
        Assert.Equal("", stderr);
        Assert.Equal(0, exit);
        var json = ParseJson(stdout);

        var rendered = ChatTemplate.FromModelFolder(tiny.ModelDir).Render(ChatConversation.Load(conv), addGenerationPrompt: true);
        Assert.Equal(rendered, json.Prompt);
        Assert.EndsWith("<|im_start|>assistant\n", json.Prompt);
        Assert.StartsWith("<|im_start|>system\n당신은 친절한 도우미입니다.<|im_end|>\n", json.Prompt);
        Assert.Equal(tiny.Tokenizer.Encode(rendered, addSpecialTokens: false), json.PromptIds);
        Assert.Equal(tiny.DirectGenerate(json.PromptIds, TinyModelFixture.Options(3)), json.GeneratedIds);
    }

    [Fact]
    public void Adapter_is_attached_and_matches_a_direct_call_with_the_adapter()
    {
        var args = new[] { "generate", "--model", tiny.ModelDir, "--prompt", ChatPrompt, "--greedy", "--max-new-tokens", "5", "--device", "cpu", "--json" };
        var withAdapter = TinyModelFixture.Raft([.. args, "--adapter", tiny.AdapterDir]);
        Assert.Equal("", withAdapter.Err);
        var ids = ParseJson(withAdapter.Out).GeneratedIds;
        var promptIds = tiny.Tokenizer.Encode(ChatPrompt);
        Assert.Equal(tiny.DirectGenerate(promptIds, TinyModelFixture.Options(5), withAdapter: true), ids);
        // The adapter (alpha 64, random B) must change what the model says, or this test proves nothing.
        Assert.NotEqual(tiny.DirectGenerate(promptIds, TinyModelFixture.Options(5)), ids);
    }

    [Fact]
    public void Sampling_flags_reach_the_generator_and_a_seed_repeats()
    {
        var args = new[] { "generate", "--model", tiny.ModelDir, "--prompt", ChatPrompt, "--temperature", "0.7", "--top-p", "0.9",
            "--seed", "42", "--repetition-penalty", "1.2", "--max-new-tokens", "5", "--device", "cpu", "--json" };
        var first = ParseJson(TinyModelFixture.Raft(args).Out).GeneratedIds;
        var second = ParseJson(TinyModelFixture.Raft(args).Out).GeneratedIds;
        Assert.Equal(first, second);
        // top_k is not given and the preset's generation_config sets none: transformers' 50 applies.
        var options = TinyModelFixture.Options(5) with
        {
            DoSample = true, Temperature = 0.7, TopP = 0.9, TopK = 50, Seed = 42, RepetitionPenalty = 1.2,
        };
        Assert.Equal(tiny.DirectGenerate(tiny.Tokenizer.Encode(ChatPrompt), options), first);
    }

    [Fact]
    public void Repetition_penalty_applies_to_greedy_decoding()
    {
        var (_, stdout, _) = TinyModelFixture.Raft("generate", "--model", tiny.ModelDir, "--prompt", "한국어 문장을 계속", "--greedy",
            "--repetition-penalty", "1.5", "--max-new-tokens", "6", "--device", "cpu", "--json");
        var options = TinyModelFixture.Options(6) with { RepetitionPenalty = 1.5 };
        Assert.Equal(tiny.DirectGenerate(tiny.Tokenizer.Encode("한국어 문장을 계속"), options), ParseJson(stdout).GeneratedIds);
    }

    [Fact]
    public void An_nf4_folder_generates_as_the_nf4_model_does()
    {
        // The quantize artifact's layout: Nf4ModelStore's folder plus the source's tokenizer and generation_config.
        var nf4 = Path.Combine(tiny.Root, "nf4");
        if (!Directory.Exists(nf4))
        {
            using var quantized = Nf4ModelStore.QuantizeFromCheckpoint(tiny.ModelDir, torch.ScalarType.Float32);
            Nf4ModelStore.Save(quantized, nf4);
            foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
                File.Copy(Path.Combine(tiny.ModelDir, name), Path.Combine(nf4, name));
        }
        var (exit, stdout, stderr) = TinyModelFixture.Raft("generate", "--model", nf4, "--prompt", ChatPrompt,
            "--greedy", "--max-new-tokens", "5", "--device", "cpu", "--json");
        Assert.Equal("", stderr);
        Assert.Equal(0, exit);
        var json = ParseJson(stdout);
        using var model = Nf4ModelStore.Load(nf4, torch.ScalarType.Float32);
        Assert.Equal(TextGenerator.Generate(model, [json.PromptIds], TinyModelFixture.Options(5))[0].NewIds, json.GeneratedIds);
    }
}
