using RaftPipeline.Modeling.Chat;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Presets;
using RaftPipeline.Modeling.Tests.Support;
using RaftPipeline.Text.Templates;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Chat;

/// <summary>The engine's own choices: stop ids, pad id, options over generation_config.json, and the queue equal to the direct path.</summary>
[Collection(SerialCollection.Name)]
public sealed class ChatEngineTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("raft-engine-").FullName;

    public ChatEngineTests() => TinyPreset.Write(_dir, seed: 9);

    [Fact]
    public void Stop_ids_are_generation_configs_then_the_tokenizers_eos_and_im_end_without_repeats()
    {
        using var engine = ChatEngine.Load(_dir, null, CPU);
        // The preset's generation_config.json: eos [<|im_end|>, <|endoftext|>], pad <|endoftext|>; the tokenizer's eos is <|im_end|>.
        Assert.Equal([TinyPreset.ImEndId, TinyPreset.EndOfTextId], engine.StopIds);
        Assert.Equal(TinyPreset.EndOfTextId, engine.PadId);
        var options = engine.Options(new SamplingSettings { MaxNewTokens = 3 });
        Assert.False(options.DoSample); // generation_config.json of the preset asks for no sampling
        Assert.Equal(engine.StopIds, options.EosTokenIds);
    }

    [Fact]
    public async Task Queued_requests_answer_what_the_direct_path_answers_and_stream_the_same_text()
    {
        using var engine = ChatEngine.Load(_dir, null, CPU);
        var prompts = new[] { "안녕", "What is RAG?", "세 번째 질문입니다" }
            .Select(q => engine.RenderChat(ChatConversation.FromMessages([new ChatMessage("user", q)])).Ids).ToList();
        var options = engine.Options(new SamplingSettings { Greedy = true, MaxNewTokens = 6 });
        var direct = prompts.Select(p => engine.Generate(p, options)).ToList();

        var streamed = await Task.WhenAll(prompts.Select(async p =>
        {
            var text = "";
            ChatAnswer? answer = null;
            await foreach (var update in engine.StreamAsync(p, options))
            {
                text += update.Text;
                answer ??= update.Answer;
            }
            return (text, answer!);
        }));

        for (int i = 0; i < prompts.Count; i++)
        {
            Assert.Equal(direct[i].Text, streamed[i].text);
            Assert.Equal(direct[i].Ids, streamed[i].Item2.Ids);
            Assert.Equal(prompts[i].Length, streamed[i].Item2.PromptTokens);
        }
        Assert.Equal(3, engine.Stats.Sequences);
        Assert.Equal(FinishReason.Length, streamed[0].Item2.Finish);
    }

    [Fact]
    public async Task Leaving_a_stream_early_cancels_its_row()
    {
        using var engine = ChatEngine.Load(_dir, null, CPU);
        var ids = engine.EncodePrompt("count to a thousand");
        var options = engine.Options(new SamplingSettings { Greedy = true, MaxNewTokens = 2000 });
        await foreach (var update in engine.StreamAsync(ids, options))
        {
            if (update.Text.Length > 0) break;
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (engine.Stats.Sequences == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(1, engine.Stats.Cancelled);
        Assert.True(engine.Stats.GeneratedTokens < 2000, $"{engine.Stats.GeneratedTokens} tokens of 2000");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
