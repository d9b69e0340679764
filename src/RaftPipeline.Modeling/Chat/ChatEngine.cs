using System.Runtime.CompilerServices;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Tokenization;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Chat;

/// <summary>
/// The one chat engine under `raft generate`/`raft chat`, the generate and eval stages, `raft serve` and the
/// IChatClient: a model folder (16-bit or NF4) on a device with an optional peft adapter, its tokenizer, its chat
/// template, the ids that end an answer, and generation with streaming text, stop strings and cancellation.
/// <para>
/// Two ways to generate: <see cref="Generate"/> on the caller's thread (a CLI, a stage: one caller at a time), and
/// <see cref="StreamAsync"/>, which queues the request for a single decode loop that steps every waiting request
/// together (<see cref="GenerationQueue"/>), for concurrent callers.
/// </para>
/// </summary>
public sealed class ChatEngine : IDisposable
{
    /// <summary>The end-of-turn token of ChatML templates (Qwen); it ends an answer even when the model's
    /// generation_config lists only &lt;|endoftext|&gt; (base models).</summary>
    public const string EndOfTurnToken = "<|im_end|>";
    public const int DefaultMaxBatchSize = 8;

    readonly Lazy<GenerationQueue> _queue;
    ChatTemplate? _chatTemplate;

    ChatEngine(string directory, CausalLM model, HuggingFaceTokenizer tokenizer, GenerationConfigFile defaults,
        IReadOnlyList<int> stopIds, int padId, int maxBatchSize)
    {
        ModelDirectory = directory;
        Model = model;
        Tokenizer = tokenizer;
        Defaults = defaults;
        StopIds = stopIds;
        PadId = padId;
        _queue = new Lazy<GenerationQueue>(() => new GenerationQueue(this, maxBatchSize));
    }

    public string ModelDirectory { get; }
    public CausalLM Model { get; }
    public HuggingFaceTokenizer Tokenizer { get; }
    /// <summary>The folder's generation_config.json (empty when it has none).</summary>
    public GenerationConfigFile Defaults { get; }

    /// <summary>The ids that end an answer: generation_config.json's eos ids (else config.json's), the tokenizer's
    /// eos and &lt;|im_end|&gt; when the tokenizer has it, in that order, without repeats. Possibly empty (a folder that
    /// names none): then only max_new_tokens or a stop string ends generation.</summary>
    public IReadOnlyList<int> StopIds { get; }
    /// <summary>generation_config's pad id, else config.json's, the tokenizer's, the first stop id, 0.</summary>
    public int PadId { get; }
    /// <summary>The adapter folders attached, in order.</summary>
    public IReadOnlyList<string> Adapters => _adapters;
    /// <summary>The longest sequence (prompt + answer) the model takes: config.json's max_position_embeddings.</summary>
    public int ContextLength => Model.Config.MaxPositionEmbeddings;

    /// <summary>Held while the model runs; a caller that runs the model itself (a loss) takes it too.</summary>
    public Lock ModelLock { get; } = new();

    readonly List<string> _adapters = [];

    /// <summary>The folder's chat template, read on first use (a plain prompt never needs one).</summary>
    /// <exception cref="ChatInputException">The folder has no chat template.</exception>
    public ChatTemplate ChatTemplate => _chatTemplate ??= ChatTemplate.FromModelFolder(ModelDirectory);

    /// <summary>What the queue has done (<see cref="StreamAsync"/> callers only).</summary>
    public GenerationStats Stats => _queue.IsValueCreated ? _queue.Value.Stats : new GenerationStats(0, 0, 0, 0, 0);

    /// <param name="device">Where the weights go (CPU or CUDA); the compute dtype follows it (fp32 on the CPU, bf16 on CUDA).</param>
    /// <param name="maxBatchSize">The most queued requests one decode step takes together.</param>
    /// <exception cref="FileNotFoundException">A required file is missing (named).</exception>
    /// <exception cref="InvalidDataException">A file holds what this tool cannot use (named).</exception>
    public static ChatEngine Load(string modelDirectory, string? adapterDirectory, Device device, int maxBatchSize = DefaultMaxBatchSize) =>
        Create(modelDirectory, adapterDirectory, maxBatchSize,
            () => ModelFolderLoader.Load(modelDirectory, device, ModelFolderLoader.DefaultComputeDtype(device.type)));

    /// <summary>
    /// An engine for <paramref name="adapterDirectory"/> over <paramref name="baseEngine"/>'s weights
    /// (<see cref="ModelFolderLoader.ShareWeights"/>): serving several adapters holds the base in memory once. It has
    /// its own model object, adapter and decode loop; the frozen base storage and the tokenizer (already used by
    /// concurrent requests of one engine) are shared.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="baseEngine"/> has an adapter attached.</exception>
    public static ChatEngine LoadOver(ChatEngine baseEngine, string adapterDirectory, int maxBatchSize = DefaultMaxBatchSize) =>
        Create(baseEngine.ModelDirectory, adapterDirectory, maxBatchSize, () =>
        {
            if (baseEngine.Adapters.Count > 0)
                throw new InvalidOperationException($"the base engine has an adapter attached ({baseEngine.Adapters[0]}); share a bare base");
            lock (baseEngine.ModelLock) return ModelFolderLoader.ShareWeights(baseEngine.Model);
        }, baseEngine.Tokenizer);

    static ChatEngine Create(string modelDirectory, string? adapterDirectory, int maxBatchSize, Func<CausalLM> loadModel,
        HuggingFaceTokenizer? tokenizer = null)
    {
        // Cheap checks first, so a bad folder fails before libtorch loads and weights are read.
        tokenizer ??= HuggingFaceTokenizer.FromDirectory(modelDirectory);
        var defaults = GenerationConfigFile.ReadFolder(modelDirectory);
        var config = ModelConfigReader.ReadFolder(modelDirectory);
        var stops = new List<int>(defaults.EosTokenIds is { Count: > 0 } eosIds ? eosIds : config.EosTokenIds);
        if (tokenizer.EosTokenId is { } eos) stops.Add(eos);
        if (tokenizer.TokenToId(EndOfTurnToken) is { } imEnd) stops.Add(imEnd);
        stops = stops.Distinct().ToList();
        int pad = defaults.PadTokenId ?? config.PadTokenId ?? tokenizer.PadTokenId ?? (stops.Count > 0 ? stops[0] : 0);

        var engine = new ChatEngine(modelDirectory, loadModel(), tokenizer, defaults, stops, pad, maxBatchSize);
        try
        {
            if (adapterDirectory is not null) engine.AttachAdapter(adapterDirectory);
        }
        catch
        {
            engine.Dispose(); // the adapter's error propagates unchanged
            throw;
        }
        return engine;
    }

    /// <summary>Attaches a peft adapter, frozen (the stages answer with the base first, then attach the tuned adapter).</summary>
    public void AttachAdapter(string adapterDirectory)
    {
        if (_adapters.Count > 0) throw new InvalidOperationException($"an adapter is already attached ({_adapters[0]})");
        lock (ModelLock) ModelFolderLoader.AttachAdapter(Model, adapterDirectory, trainable: false);
        _adapters.Add(adapterDirectory);
    }

    /// <summary>
    /// The conversation rendered with the model's chat template, assistant turn opened, and its ids as
    /// apply_chat_template(tokenize=True) encodes them: nothing added, since the template wrote every special token.
    /// </summary>
    public (string Text, int[] Ids) RenderChat(ChatConversation conversation)
    {
        var text = ChatTemplate.Render(conversation, addGenerationPrompt: true);
        return (text, EncodeRendered(text));
    }

    /// <summary>A verbatim prompt as tokenizer(prompt) encodes it: special tokens in it recognised, BOS added where the
    /// tokenizer adds one.</summary>
    public int[] EncodePrompt(string text) => Tokenizer.Encode(text, addSpecialTokens: true);

    /// <summary>Text a template rendered, encoded without added special tokens.</summary>
    public int[] EncodeRendered(string text) => Tokenizer.Encode(text, addSpecialTokens: false);

    /// <summary>The options for these knobs over the folder's generation_config.json, with this model's stop and pad ids.</summary>
    public GenerationOptions Options(SamplingSettings settings) => settings.Resolve(Defaults, StopIds, PadId);

    /// <summary>
    /// The text shown for generated ids: special tokens skipped (transformers' decode(skip_special_tokens=True)), ids
    /// beyond the tokenizer's vocabulary dropped (a model's embedding table is padded past it: 151,936 rows for 151,669
    /// Qwen3 tokens).
    /// </summary>
    public string AnswerText(IReadOnlyList<int> ids) => StreamingDecoder.Decode(Tokenizer, ids);

    /// <summary>A finished sequence as an answer: its text cut before the first stop string.</summary>
    public ChatAnswer Answer(GeneratedSequence sequence, IReadOnlyList<string>? stopStrings = null)
    {
        var text = AnswerText(sequence.NewIds);
        foreach (var stop in stopStrings ?? [])
        {
            int i = text.IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0) text = text[..i];
        }
        return new ChatAnswer(text, sequence.NewIds, sequence.Finish, sequence.PromptIds.Count);
    }

    /// <summary>
    /// Continues one prompt on the caller's thread; <paramref name="onText"/> receives the text as it is produced (whole
    /// characters, nothing of a stop string), and the pieces concatenate to the answer's text.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> fired; nothing is returned.</exception>
    public ChatAnswer Generate(IReadOnlyList<int> promptIds, GenerationOptions options, Action<string>? onText = null,
        CancellationToken cancellation = default)
    {
        var stream = onText is null ? null : new AnswerTextStream(Tokenizer, options.StopStrings);
        GeneratedSequence result;
        lock (ModelLock)
        {
            result = TextGenerator.Generate(Model, [promptIds], options,
                stream is null ? null : token => Emit(stream.Push(token.TokenId)),
                options.StopStrings.Count > 0 ? AnswerText : null, cancellation)[0];
        }
        if (stream is not null) Emit(stream.Flush());
        return Answer(result, options.StopStrings);

        void Emit(string piece)
        {
            if (piece.Length > 0) onText!(piece);
        }
    }

    /// <summary>
    /// Continues any number of rows, each with its own options and seed, on the caller's thread: sorted by prompt length
    /// and decoded <paramref name="batchSize"/> at a time (<see cref="TextGenerator.GenerateInBatches"/>); answers in the
    /// order of <paramref name="rows"/>.
    /// </summary>
    /// <param name="onBatchDone">Called after each batch with the number of rows answered so far.</param>
    public IReadOnlyList<ChatAnswer> GenerateRows(IReadOnlyList<GenerationRow> rows, int batchSize, Action<int>? onBatchDone = null,
        CancellationToken cancellation = default)
    {
        bool stops = rows.Any(r => r.Options.StopStrings.Count > 0);
        lock (ModelLock)
        {
            return TextGenerator.GenerateInBatches(Model, rows, batchSize, decode: stops ? AnswerText : null, onBatchDone: onBatchDone,
                    cancellation: cancellation)
                .Select((s, i) => Answer(s, rows[i].Options.StopStrings)).ToList();
        }
    }

    /// <summary>
    /// Queues one prompt for the shared decode loop, which steps it together with the other requests waiting at the
    /// same time, and streams its text; the last update carries the answer (finish reason, usage). Cancelling
    /// <paramref name="cancellation"/>, or leaving the enumeration early, ends the row at the next step (finish
    /// <see cref="FinishReason.Cancelled"/>); a cancelled enumeration throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async IAsyncEnumerable<ChatStreamUpdate> StreamAsync(IReadOnlyList<int> promptIds, GenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        options.Validate();
        if (promptIds.Count == 0) throw new ArgumentException("the prompt encodes to no tokens", nameof(promptIds));
        // A caller that stops reading early (breaks out of its loop) ends the row too, not only one that cancels.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var reader = _queue.Value.Enqueue(promptIds, options, stop.Token);
        try
        {
            await foreach (var update in reader.ReadAllAsync(cancellation).ConfigureAwait(false)) yield return update;
        }
        finally
        {
            stop.Cancel();
        }
    }

    /// <summary><see cref="StreamAsync"/>, collected.</summary>
    public async Task<ChatAnswer> GenerateAsync(IReadOnlyList<int> promptIds, GenerationOptions options, CancellationToken cancellation = default)
    {
        await foreach (var update in StreamAsync(promptIds, options, cancellation).ConfigureAwait(false))
        {
            if (update.Answer is not null) return update.Answer;
        }
        throw new InvalidOperationException("the generation loop ended without an answer");
    }

    /// <summary>Lets queued requests finish (the decode loop drains), then frees the model.</summary>
    public void Dispose()
    {
        if (_queue.IsValueCreated) _queue.Value.Dispose();
        Model.Dispose();
    }
}
