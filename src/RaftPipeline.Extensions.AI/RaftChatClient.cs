using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using RaftPipeline.Modeling.Chat;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Templates.Jinja;
using RaftPipeline.Text.Tokenization;
using TorchSharp;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using TemplateMessage = RaftPipeline.Text.Templates.ChatMessage;

namespace RaftPipeline.Extensions.AI;

/// <summary>
/// An in-process <see cref="IChatClient"/> over a model folder (+ a peft adapter), on RaftPipeline's chat engine: the
/// conversation is rendered with the model's own chat template, <see cref="ChatOptions"/> map onto the decoding
/// (MaxOutputTokens, Temperature (0 = greedy), TopP, TopK, StopSequences, Seed), and responses carry
/// <see cref="UsageDetails"/> and a <see cref="ChatFinishReason"/>. Concurrent calls share one decode loop that steps
/// them together. What is not set comes from the folder's generation_config.json, as <c>raft generate</c> takes it.
/// Refusals are <see cref="RaftChatClientException"/>s with a <see cref="RaftChatErrorReason"/>.
/// </summary>
public sealed class RaftChatClient : IChatClient
{
    readonly ChatEngine _engine;
    readonly ChatClientMetadata _metadata;

    /// <exception cref="RaftChatClientException">The folder cannot be loaded (<see cref="RaftChatErrorReason.ModelFolder"/>) or an option is wrong.</exception>
    public RaftChatClient(RaftChatClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Directory.Exists(options.ModelDirectory))
            throw new RaftChatClientException(RaftChatErrorReason.ModelFolder, $"model folder not found: '{options.ModelDirectory}'");
        if (options.AdapterDirectory is { } adapter && !Directory.Exists(adapter))
            throw new RaftChatClientException(RaftChatErrorReason.ModelFolder, $"adapter folder not found: '{adapter}'");
        if (options.MaxBatchSize < 1)
            throw new RaftChatClientException(RaftChatErrorReason.InvalidOptions, $"MaxBatchSize must be at least 1, got {options.MaxBatchSize}");
        var device = Device(options.Device);
        try
        {
            _engine = ChatEngine.Load(options.ModelDirectory, options.AdapterDirectory, device, options.MaxBatchSize);
            _ = _engine.ChatTemplate; // a folder without a template fails now, not at the first question
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ModelConfigException
            or SafetensorsFormatException or TokenizerFormatException or ChatInputException or NotSupportedException)
        {
            _engine?.Dispose();
            throw new RaftChatClientException(RaftChatErrorReason.ModelFolder, e.Message, e);
        }
        ModelId = options.ModelId ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.ModelDirectory)));
        _metadata = new ChatClientMetadata("raftpipeline", new Uri(Path.GetFullPath(options.ModelDirectory)), ModelId);
    }

    /// <summary>The name responses carry as <c>ModelId</c>.</summary>
    public string ModelId { get; }

    /// <summary>The engine underneath (its tokenizer, stop ids, context length, queue statistics).</summary>
    public ChatEngine Engine => _engine;

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (prompt, generation) = Prepare(messages, options);
        var answer = await _engine.GenerateAsync(prompt, generation, cancellationToken).ConfigureAwait(false);
        return new ChatResponse(new AiChatMessage(ChatRole.Assistant, answer.Text))
        {
            FinishReason = FinishReason(answer.Finish),
            Usage = Usage(answer),
            ModelId = ModelId,
            ResponseId = Guid.NewGuid().ToString("N"),
            CreatedAt = DateTimeOffset.UtcNow,
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (prompt, generation) = Prepare(messages, options);
        string responseId = Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow;
        await foreach (var update in _engine.StreamAsync(prompt, generation, cancellationToken).ConfigureAwait(false))
        {
            var piece = update.Answer is { } answer
                ? new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(Usage(answer))]) { FinishReason = FinishReason(answer.Finish) }
                : new ChatResponseUpdate(ChatRole.Assistant, update.Text);
            piece.ResponseId = responseId;
            piece.MessageId = responseId;
            piece.ModelId = ModelId;
            piece.CreatedAt = created;
            yield return piece;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return _metadata;
        if (serviceType == typeof(ChatEngine)) return _engine;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Lets running requests finish, then frees the model.</summary>
    public void Dispose() => _engine.Dispose();

    (int[] Prompt, GenerationOptions Options) Prepare(IEnumerable<AiChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var conversation = new List<TemplateMessage>();
        if (!string.IsNullOrEmpty(options?.Instructions)) conversation.Add(new TemplateMessage("system", options.Instructions));
        foreach (var message in messages) conversation.Add(Message(message));
        if (conversation.Count == 0) throw new RaftChatClientException(RaftChatErrorReason.UnsupportedContent, "no messages to answer");

        int[] prompt;
        try
        {
            prompt = _engine.RenderChat(ChatConversation.FromMessages(conversation)).Ids;
        }
        catch (Exception e) when (e is ChatInputException or TemplateException)
        {
            throw new RaftChatClientException(RaftChatErrorReason.TemplateFailed, $"the model's chat template cannot render this conversation: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw new RaftChatClientException(RaftChatErrorReason.UnsupportedContent, $"a message is not valid Unicode text: {e.Message}", e);
        }

        var generation = _engine.Options(Settings(options));
        int room = _engine.ContextLength - prompt.Length;
        if (room <= 0 || (options?.MaxOutputTokens is { } max && max > room))
            throw new RaftChatClientException(RaftChatErrorReason.ContextLengthExceeded,
                $"the model's context length is {_engine.ContextLength} tokens; the conversation takes {prompt.Length}" +
                (options?.MaxOutputTokens is { } m ? $" and MaxOutputTokens asks for {m} more" : ""));
        if (options?.MaxOutputTokens is null) generation = generation with { MaxNewTokens = Math.Min(generation.MaxNewTokens, room) };
        return (prompt, generation);
    }

    SamplingSettings Settings(ChatOptions? options)
    {
        if (options is null) return new SamplingSettings();
        if (options.ModelId is { } id && id != ModelId)
            throw new RaftChatClientException(RaftChatErrorReason.UnknownModel, $"ChatOptions.ModelId is '{id}', but this client serves '{ModelId}'");
        if (options.MaxOutputTokens is < 1) throw Invalid($"MaxOutputTokens must be at least 1, got {options.MaxOutputTokens}");
        if (options.Temperature is { } t && !(t >= 0)) throw Invalid($"Temperature must be ≥ 0 (0 = greedy), got {t}");
        if (options.TopP is { } p && !(p > 0 && p <= 1)) throw Invalid($"TopP must be in (0, 1], got {p}");
        if (options.TopK is < 0) throw Invalid($"TopK must be ≥ 0 (0 = off), got {options.TopK}");
        if (options.FrequencyPenalty is { } f && f != 0) throw Invalid("FrequencyPenalty is not supported; set AdditionalProperties[\"repetition_penalty\"] instead");
        if (options.PresencePenalty is { } pp && pp != 0) throw Invalid("PresencePenalty is not supported; set AdditionalProperties[\"repetition_penalty\"] instead");
        if (options.Tools is { Count: > 0 }) throw new RaftChatClientException(RaftChatErrorReason.UnsupportedContent, "tools are not supported by this client");
        if (options.ResponseFormat is not null and not ChatResponseFormatText)
            throw Invalid("only the text ResponseFormat is supported");
        if (options.StopSequences?.Any(s => string.IsNullOrEmpty(s)) == true) throw Invalid("StopSequences holds an empty string");
        double? repetition = null;
        if (options.AdditionalProperties?.TryGetValue("repetition_penalty", out var r) == true)
        {
            repetition = r switch { double d => d, float fl => fl, int i => i, _ => throw Invalid($"repetition_penalty must be a number, got {r}") };
            if (!(repetition > 0)) throw Invalid($"repetition_penalty must be > 0 (1 = off), got {repetition}");
        }
        bool greedy = options.Temperature == 0;
        return new SamplingSettings
        {
            MaxNewTokens = options.MaxOutputTokens,
            Greedy = greedy,
            Temperature = greedy ? null : options.Temperature,
            TopP = options.TopP,
            TopK = options.TopK,
            Seed = options.Seed,
            RepetitionPenalty = repetition,
            StopStrings = options.StopSequences?.ToList() ?? [],
        };

        static RaftChatClientException Invalid(string message) => new(RaftChatErrorReason.InvalidOptions, message);
    }

    static TemplateMessage Message(AiChatMessage message)
    {
        string role = message.Role == ChatRole.System ? "system"
            : message.Role == ChatRole.User ? "user"
            : message.Role == ChatRole.Assistant ? "assistant"
            : throw new RaftChatClientException(RaftChatErrorReason.UnsupportedContent, $"role '{message.Role}' is not supported (system, user and assistant are)");
        if (message.Contents.FirstOrDefault(c => c is not TextContent and not UsageContent and not TextReasoningContent) is { } other)
            throw new RaftChatClientException(RaftChatErrorReason.UnsupportedContent, $"a {role} message holds {other.GetType().Name}; this client takes text only");
        return new TemplateMessage(role, message.Text);
    }

    static ChatFinishReason FinishReason(FinishReason finish) => finish == Modeling.Generation.FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop;

    static UsageDetails Usage(ChatAnswer answer) => new()
    {
        InputTokenCount = answer.PromptTokens,
        OutputTokenCount = answer.CompletionTokens,
        TotalTokenCount = answer.PromptTokens + answer.CompletionTokens,
    };

    static torch.Device Device(string name)
    {
        switch (name)
        {
            case "cpu":
                return torch.CPU;
            case "cuda":
                TorchRuntime.EnsureInitialized(DeviceType.CUDA);
                return torch.CUDA;
            case "auto":
                TorchRuntime.EnsureInitialized();
                return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
            default:
                throw new RaftChatClientException(RaftChatErrorReason.InvalidOptions, $"Device is '{name}', expected cpu, cuda or auto");
        }
    }
}
