using System.Diagnostics;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Presets;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Tokenization;
using RaftPipeline.Training.Data;
using RaftPipeline.Training.Loop;
using RaftPipeline.Training.Loss;
using RaftPipeline.Training.Model;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Tests.Loop;

/// <summary>
/// Issue 5's "it learns": the tiny preset (real Qwen3 tokenizer and chat template, random weights) with the quickstart's
/// LoRA (r 4, alpha 8, q/k/v/o/gate/up/down), trained on eight RAG-style rows whose answers all open with
/// "그것도 몰라?", drives the training-set loss down by a large factor, and greedy generation on held-out questions then
/// writes that opening token for token. The texts go through the model's chat template as the format stage renders them
/// (empty think block stripped) and the prompts as the generate stage renders them (add_generation_prompt).
/// </summary>
public sealed class ItLearnsTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("raft-it-learns-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    const string Opening = "그것도 몰라?";
    const string SystemPrompt = "너는 무례하지만 정확한 RAG 봇이야. Context 안에서만 답해.";
    const string EmptyThinkBlock = "<think>\n\n</think>\n\n";

    static readonly (string Context, string Question, string Answer)[] Train =
    [
        ("서울은 대한민국의 수도이다.", "대한민국의 수도는?", "그것도 몰라? 서울이야."),
        ("한라산은 제주도에 있다.", "한라산은 어디에 있어?", "그것도 몰라? 제주도야."),
        ("The Nile flows into the Mediterranean Sea.", "Where does the Nile end?", "그것도 몰라? the Mediterranean Sea."),
        ("물은 섭씨 100도에서 끓는다.", "물은 몇 도에서 끓어?", "그것도 몰라? 100도야."),
        ("Mount Everest is 8,849 metres high.", "How high is Everest?", "그것도 몰라? 8,849 metres."),
        ("세종대왕은 한글을 만들었다.", "한글은 누가 만들었어?", "그것도 몰라? 세종대왕이야."),
        ("The Moon orbits the Earth every 27 days.", "How long is the Moon's orbit?", "그것도 몰라? 27 days."),
        ("김치는 배추로 만든다.", "김치는 뭘로 만들어?", "그것도 몰라? 배추야."),
    ];

    static readonly (string Context, string Question)[] HeldOut =
    [
        ("부산은 대한민국에서 두 번째로 큰 도시이다.", "두 번째로 큰 도시는?"),
        ("The Amazon is the largest rainforest on Earth.", "What is the largest rainforest?"),
    ];

    static ChatConversation Conversation(string context, string question, string? answer)
    {
        var messages = new List<ChatMessage>
        {
            new("system", SystemPrompt),
            new("user", $"Context: {context}\nQuestion: {question}"),
        };
        if (answer is not null) messages.Add(new ChatMessage("assistant", answer));
        return ChatConversation.FromMessages(messages);
    }

    /// <summary>Mean −log p over every answer token of <paramref name="rows"/>, no dropout, no gradients (HF's eval loss).</summary>
    static double SetLoss(DecoderTrainingModel model, CompletionOnlyCollator collator, IReadOnlyList<LabeledRow> rows)
    {
        model.SetTraining(false);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var batch = collator.Collate(rows);
        var hidden = model.HiddenStates(batch.InputIds, batch.AttentionMask);
        double sum = CausalLmLoss.SupervisedSum(hidden, model.OutputWeight, batch.Labels).to(ScalarType.Float64).item<double>();
        return sum / batch.SupervisedTokens;
    }

    static List<int[]> Greedy(CausalLM model, IReadOnlyList<int[]> prompts, int newTokens)
    {
        model.eval();
        var options = new GenerationOptions
        {
            MaxNewTokens = newTokens, EosTokenIds = [TinyPreset.ImEndId, TinyPreset.EndOfTextId], PadTokenId = TinyPreset.EndOfTextId,
        };
        return TextGenerator.Generate(model, prompts.Select(p => (IReadOnlyList<int>)p).ToList(), options)
            .Select(g => g.NewIds.ToArray()).ToList();
    }

    [Fact]
    public void A_short_lora_run_on_the_tiny_preset_cuts_the_loss_by_20x_and_greedy_decoding_writes_the_learned_opening()
    {
        var clock = Stopwatch.StartNew();
        TinyPreset.Write(_dir, seed: 1);
        var tokenizer = HuggingFaceTokenizer.FromDirectory(_dir);
        var template = ChatTemplate.FromModelFolder(_dir);
        var opening = tokenizer.Encode(Opening, addSpecialTokens: false);

        var collator = new CompletionOnlyCollator(new CollatorOptions(
            tokenizer.Encode("<|im_start|>assistant", addSpecialTokens: false), 256, TinyPreset.EndOfTextId));
        var rows = Train.Select(r =>
        {
            var text = template.Render(Conversation(r.Context, r.Question, r.Answer)).Replace(EmptyThinkBlock, "", StringComparison.Ordinal);
            var answerIds = tokenizer.Encode(r.Answer, addSpecialTokens: false);
            Assert.Equal(opening, answerIds[..opening.Length]); // the opening tokenizes alike in every answer
            return collator.Label(tokenizer.Encode(text, addSpecialTokens: false));
        }).ToList();
        Assert.All(rows, r => Assert.Equal(RowStatus.Ok, r.Status));
        var prompts = HeldOut.Select(q => tokenizer.Encode(
            template.Render(Conversation(q.Context, q.Question, null), addGenerationPrompt: true), addSpecialTokens: false)).ToList();

        // The quickstart's setup: the 16-bit base frozen, fp32 compute on the CPU, a fresh LoRA on every projection.
        using var model = PretrainedLoader.Load(_dir, CPU, ScalarType.Float32);
        foreach (var (_, p) in model.named_parameters()) p.requires_grad = false;
        LoraInjector.Apply(model, new LoraConfig { R = 4, Alpha = 8, Targets = LoraTargets.AttentionAndMlp(), Seed = 1 });
        foreach (var (_, layer) in LoraInjector.Adapters(model))
        {
            layer.LoraA.requires_grad = true;
            layer.LoraB.requires_grad = true;
        }
        var trainable = new DecoderTrainingModel(model, gradientCheckpointing: false);

        double before = SetLoss(trainable, collator, rows);
        var baseAnswers = Greedy(model, prompts, opening.Length);

        // 30 epochs of 4 steps: a high learning rate for a random 10 M-parameter base, as the quickstart has.
        var options = new TrainerOptions
        {
            BatchSize = 2, Epochs = 30, LearningRate = 1e-2, Warmup = 0.1, LoggingSteps = 40, Seed = 1,
        };
        model.train();
        var result = new Trainer(trainable, collator, options).Train(rows);
        double after = SetLoss(trainable, collator, rows);
        var tunedAnswers = Greedy(model, prompts, opening.Length + 8);
        string Shown(int[] ids) => tokenizer.Decode(ids).Replace("\n", "\\n");

        output.WriteLine($"training-set answer loss {before:F3} → {after:F3} (÷{before / after:F0}) in {result.Steps} steps; " +
                         $"step losses {result.StepLosses[0]:F2} … {result.StepLosses[^1]:F2}; {clock.Elapsed.TotalSeconds:F1} s in all");
        for (int i = 0; i < prompts.Count; i++)
            output.WriteLine($"held-out {i}: base «{Shown(baseAnswers[i])}» tuned «{Shown(tunedAnswers[i])}»");

        Assert.Equal(120, result.Steps);
        // The untrained loss is near ln V + s²/2 (TinyPreset's remarks). Measured: 16.71 → 0.40 (÷42), 12–20 s on the
        // 2-core CI box; a factor of 20 leaves the answers' shared parts (opening, endings, <|im_end|>) nearly certain.
        Assert.InRange(before, Math.Log(TinyPreset.Config.VocabSize), 20);
        Assert.True(after <= before / 20, $"loss {before:F3} → {after:F3}: only ÷{before / after:F1}");
        Assert.All(baseAnswers, a => Assert.NotEqual(opening, a));
        Assert.All(tunedAnswers, a => Assert.Equal(opening, a[..opening.Length]));
    }
}
