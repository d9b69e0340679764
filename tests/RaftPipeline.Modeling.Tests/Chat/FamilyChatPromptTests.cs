using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Chat;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Tests.Support;
using RaftPipeline.Text.Templates;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Chat;

/// <summary>
/// Chat on each family's tiny folder (Fixtures/families/&lt;case&gt;/model: tokenizer, our template in the family's style
/// and generation_config eos ids, from chat_fixtures.py): the prompt our engine renders equals what jinja2 itself renders
/// in transformers' apply_chat_template environment (chat_prompts.json, chat_fixtures.py `prompts`), every special token
/// of it is one id, and answers end on the family's stop ids, its end-of-turn token included.
/// </summary>
[Collection(SerialCollection.Name)]
public class FamilyChatPromptTests
{
    static readonly Lazy<JsonNode> s_prompts = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Fixtures("families"), "chat_prompts.json")))!);

    /// <summary>Each case, the ids that end its answers (generation_config.json's eos ids as the family lists them) and its turn markers.</summary>
    public static TheoryData<string, int[], string[]> Cases() => new()
    {
        { "llama3", [255, 253, 254], ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"] },
        { "mistral", [255], ["<s>", "[INST]", "[/INST]", "</s>"] },
        { "phi3", [255, 253, 254], ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"] },
        { "phi3_longrope", [255, 253, 254], ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"] },
        { "gemma2", [255, 253], ["<bos>", "<start_of_turn>", "<end_of_turn>"] },
        { "gemma3_text", [255, 253], ["<bos>", "<start_of_turn>", "<end_of_turn>"] },
    };

    static ChatEngine Load(string name) => ChatEngine.Load(Path.Combine(RepoPaths.Fixtures("families"), name, "model"), null, CPU);

    static ChatConversation Conversation(JsonNode messages) => ChatConversation.FromMessages(
        messages.AsArray().Select(m => new ChatMessage(m!["role"]!.GetValue<string>(), m["content"]!.GetValue<string>())));

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_prompt_is_jinja2s_in_transformers_environment_and_each_marker_is_one_token(string name, int[] stops, string[] markers)
    {
        using var engine = Load(name);
        Assert.Equal(stops, engine.StopIds);
        var cases = s_prompts.Value["cases"]![name]!.AsObject();
        Assert.True(cases.Count >= 10, $"{name}: {cases.Count} reference prompts");
        foreach (var (conversation, want) in cases)
        {
            var (text, ids) = engine.RenderChat(Conversation(want!["messages"]!));
            Assert.Equal(want["text"]!.GetValue<string>(), text);
            foreach (var marker in markers)
            {
                int id = engine.Tokenizer.TokenToId(marker) ?? throw new InvalidOperationException($"{name}: no token {marker}");
                int inText = (text.Length - text.Replace(marker, "").Length) / marker.Length;
                Assert.True(inText == ids.Count(i => i == id), $"{name}/{conversation}: '{marker}' appears {inText} times in the text, id {id} {ids.Count(i => i == id)} times");
            }
        }
    }

    /// <summary>The first one-turn conversation (chat_fixtures.py's PROBES order) whose greedy answer ends on a stop id.</summary>
    static (string Probe, ChatAnswer Answer)? FirstStop(ChatEngine engine)
    {
        foreach (var a in new[] { "Hello", "Tell me", "What is", "Answer", "Say", "Write", "Explain", "Read", "Find", "Give me", "Show", "Name" })
        foreach (var b in new[] { "the document.", "a story.", "the weather?", "the capital of France.", "something short.", "a cat and a dog", "the report", "page 12", "Friday", "the model" })
        foreach (var c in new[] { "", " Please.", " Now!" })
        {
            var ids = engine.RenderChat(ChatConversation.FromMessages([new ChatMessage("user", $"{a} {b}{c}")])).Ids;
            var answer = engine.Generate(ids, engine.Options(new SamplingSettings { MaxNewTokens = 24 }));
            if (answer.Finish == FinishReason.EndOfSequence) return ($"{a} {b}{c}", answer);
        }
        return null;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_answer_ends_at_the_first_of_the_familys_stop_ids(string name, int[] stops, string[] markers)
    {
        _ = markers;
        using var engine = Load(name);
        var found = FirstStop(engine);
        Assert.True(found is not null, $"{name}: no probe's greedy answer reached a stop id within 24 tokens");
        var ids = found.Value.Answer.Ids;
        Assert.Contains(ids[^1], stops);
        Assert.DoesNotContain(ids.Take(ids.Count - 1), stops.Contains);
        // The text shown leaves the special tokens out.
        Assert.DoesNotContain(engine.Tokenizer.IdToToken(ids[^1])!, found.Value.Answer.Text);
    }

    [Fact]
    public void Gemma_ends_an_answer_on_end_of_turn_which_config_json_does_not_list()
    {
        using var engine = Load("gemma3_text");
        var found = FirstStop(engine);
        Assert.NotNull(found);
        Assert.Equal(253, found.Value.Answer.Ids[^1]); // <end_of_turn>, from generation_config.json; config.json's eos is 255
        Assert.Equal("<end_of_turn>", engine.Tokenizer.IdToToken(253));
    }
}
