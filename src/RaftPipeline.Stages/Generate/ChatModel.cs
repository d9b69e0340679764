using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Stages.Models;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Generate;

/// <summary>
/// A model slot ready to chat: the decoder (base, then with the adapter once attached), its tokenizer and chat
/// template, and the ids that end an answer. Shared by the generate and eval stages so both prompt exactly alike.
/// </summary>
public sealed class ChatModel : IDisposable
{
    public const string EndOfTurnToken = "<|im_end|>";

    ChatModel(CausalLM model, HuggingFaceTokenizer tokenizer, ChatPromptRenderer renderer, IReadOnlyList<int> stopIds, int padId)
    {
        Model = model;
        Tokenizer = tokenizer;
        Renderer = renderer;
        StopIds = stopIds;
        PadId = padId;
    }

    public CausalLM Model { get; }
    public HuggingFaceTokenizer Tokenizer { get; }
    public ChatPromptRenderer Renderer { get; }

    /// <summary>generation_config.json's eos ids (else config.json's), the tokenizer's eos and &lt;|im_end|&gt;, in that order.</summary>
    public IReadOnlyList<int> StopIds { get; }
    public int PadId { get; }
    public bool HasAdapter { get; private set; }

    public static ChatModel Load(string modelDirectory, DeviceKind device)
    {
        var tokenizer = HuggingFaceTokenizer.FromDirectory(modelDirectory);
        var renderer = new ChatPromptRenderer(ChatTemplate.FromModelFolder(modelDirectory));
        var generation = GenerationConfigFile.ReadFolder(modelDirectory);
        var model = ModelSlotLoader.Load(modelDirectory, device, ModelSlotLoader.DefaultComputeDtype(device));

        var stops = new List<int>(generation.EosTokenIds is { Count: > 0 } eosIds ? eosIds : model.Config.EosTokenIds);
        if (tokenizer.EosTokenId is { } eos) stops.Add(eos);
        if (tokenizer.TokenToId(EndOfTurnToken) is { } imEnd) stops.Add(imEnd);
        stops = stops.Distinct().ToList();
        if (stops.Count == 0)
        {
            model.Dispose();
            throw new InvalidDataException($"{modelDirectory}: no end-of-sequence id: generation_config.json, config.json and the tokenizer set none");
        }
        int pad = generation.PadTokenId ?? model.Config.PadTokenId ?? tokenizer.PadTokenId ?? stops[0];
        return new ChatModel(model, tokenizer, renderer, stops, pad);
    }

    public void AttachAdapter(string adapterDirectory)
    {
        if (HasAdapter) throw new InvalidOperationException("an adapter is already attached");
        ModelSlotLoader.AttachAdapter(Model, adapterDirectory, trainable: false);
        HasAdapter = true;
    }

    /// <summary>transformers' apply_chat_template(tokenize=True): the rendered text encoded without added special tokens.</summary>
    public int[] Encode(string text) => Tokenizer.Encode(text, addSpecialTokens: false);

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

    /// <summary>Continues one prompt; the answer text is decoded without special tokens (the closing &lt;|im_end|&gt;).</summary>
    public GeneratedAnswer Generate(IReadOnlyList<int> promptIds, GenerationOptions options, CancellationToken cancellation = default) =>
        GenerateBatch([promptIds], options, cancellation)[0];

    /// <summary>Continues several prompts together (left-padded into one batch, as transformers does).</summary>
    public IReadOnlyList<GeneratedAnswer> GenerateBatch(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options,
        CancellationToken cancellation = default) =>
        TextGenerator.Generate(Model, prompts, options, cancellation: cancellation)
            .Select(s => new GeneratedAnswer(DecodeAnswer(s.NewIds), s.NewIds, s.Finish)).ToList();

    /// <summary>
    /// transformers' decode(ids, skip_special_tokens=True). Ids beyond the tokenizer's vocabulary (a model's
    /// embedding table is padded past it: 151,936 rows for 151,669 Qwen3 tokens) decode to nothing: the tokenizer
    /// drops them, as Hugging Face does.
    /// </summary>
    public string DecodeAnswer(IEnumerable<int> ids) => Tokenizer.Decode(ids, skipSpecialTokens: true);

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

    public void Dispose() => Model.Dispose();
}

/// <summary>A generated answer: its text (special tokens skipped), the new ids and why generation stopped.</summary>
public sealed record GeneratedAnswer(string Text, IReadOnlyList<int> Ids, FinishReason Finish);
