using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Chat;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Stages.Models;
using RaftPipeline.Text.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Generate;

/// <summary>
/// A model slot ready to chat, for the generate and eval stages so both prompt exactly alike: the
/// <see cref="ChatEngine"/> (model, adapter, tokenizer, template, stop ids, generation) with the stages' prompt
/// renderer, the spec's sampling mapped onto the engine's options, and the teacher-forced loss eval scores.
/// </summary>
public sealed class ChatModel : IDisposable
{
    ChatModel(ChatEngine engine, ChatPromptRenderer renderer)
    {
        Engine = engine;
        Renderer = renderer;
    }

    public ChatEngine Engine { get; }
    public CausalLM Model => Engine.Model;
    public HuggingFaceTokenizer Tokenizer => Engine.Tokenizer;
    public ChatPromptRenderer Renderer { get; }

    /// <summary>The engine's stop ids: generation_config.json's eos ids (else config.json's), the tokenizer's eos and &lt;|im_end|&gt;.</summary>
    public IReadOnlyList<int> StopIds => Engine.StopIds;
    public int PadId => Engine.PadId;
    public bool HasAdapter => Engine.Adapters.Count > 0;

    /// <exception cref="InvalidDataException">The folder names no end-of-sequence id, so an answer could not end.</exception>
    public static ChatModel Load(string modelDirectory, DeviceKind device)
    {
        var engine = ChatEngine.Load(modelDirectory, null, device.ToTorchDevice());
        try
        {
            if (engine.StopIds.Count == 0)
                throw new InvalidDataException($"{modelDirectory}: no end-of-sequence id: generation_config.json, config.json and the tokenizer set none");
            return new ChatModel(engine, new ChatPromptRenderer(engine.ChatTemplate));
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    public void AttachAdapter(string adapterDirectory) => Engine.AttachAdapter(adapterDirectory);

    /// <summary>transformers' apply_chat_template(tokenize=True): the rendered text encoded without added special tokens.</summary>
    public int[] Encode(string text) => Engine.EncodeRendered(text);

    /// <summary>
    /// transformers' generate() arguments for <paramref name="sampling"/>: every knob set explicitly, because
    /// <see cref="GenerationOptions"/> defaults are "off" while the spec's are the notebook's.
    /// </summary>
    public GenerationOptions Options(SamplingOptions sampling, long seed) => new()
    {
        MaxNewTokens = sampling.MaxNewTokens,
        DoSample = !sampling.Greedy,
        Temperature = sampling.Temperature,
        TopP = sampling.TopP,
        TopK = sampling.TopK,
        // transformers applies the repetition penalty in greedy search too.
        RepetitionPenalty = sampling.RepetitionPenalty,
        Seed = seed,
        EosTokenIds = StopIds,
        PadTokenId = PadId,
    };

    /// <summary>
    /// Answers every prompt with its own options (its own seed), length-sorted into batches of
    /// <paramref name="batchSize"/>; answers in the order of <paramref name="prompts"/>, their text decoded without
    /// special tokens (the closing &lt;|im_end|&gt;).
    /// </summary>
    public IReadOnlyList<ChatAnswer> GenerateAll(IReadOnlyList<IReadOnlyList<int>> prompts, IReadOnlyList<GenerationOptions> options,
        int batchSize, Action<int>? onBatchDone = null, CancellationToken cancellation = default) =>
        Engine.GenerateRows(prompts.Select((p, i) => new GenerationRow(p, options[i])).ToList(), batchSize, onBatchDone, cancellation);

    /// <summary>transformers' decode(ids, skip_special_tokens=True), as the engine shows answers.</summary>
    public string DecodeAnswer(IReadOnlyList<int> ids) => Engine.AnswerText(ids);

    /// <summary>
    /// Teacher-forced cross-entropy of <paramref name="continuationIds"/> after <paramref name="promptIds"/>: the sum
    /// over the continuation's tokens (fp32, as transformers' loss) and their count; the prompt is not scored.
    /// </summary>
    public (double Sum, int Tokens) ContinuationLoss(IReadOnlyList<int> promptIds, IReadOnlyList<int> continuationIds)
    {
        if (promptIds.Count == 0 || continuationIds.Count == 0) throw new ArgumentException("need a prompt and a continuation of at least one token each");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        long[] ids = [.. promptIds.Select(i => (long)i), .. continuationIds.Select(i => (long)i)];
        var input = torch.tensor(ids, [1, ids.Length], device: Model.Device);
        // Only the positions that predict the continuation go through lm_head: the last prompt token's onwards. Full
        // logits would cost prompt length × 151,936 fp32 values per row for nothing.
        int c = continuationIds.Count;
        var logits = Model.Forward(input, logitsToKeep: c + 1).Logits.narrow(1, 0, c).to(ScalarType.Float32).reshape(c, -1);
        var target = torch.tensor(continuationIds.Select(i => (long)i).ToArray(), device: Model.Device);
        var loss = nn.functional.cross_entropy(logits, target);
        // Forward gives the mean over the counted tokens; the caller averages over every token of every row.
        return (loss.item<float>() * (double)continuationIds.Count, continuationIds.Count);
    }

    public void Dispose() => Engine.Dispose();
}
