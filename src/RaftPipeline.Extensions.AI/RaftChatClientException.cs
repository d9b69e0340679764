namespace RaftPipeline.Extensions.AI;

/// <summary>Why a <see cref="RaftChatClient"/> refused a request or could not start.</summary>
public enum RaftChatErrorReason
{
    /// <summary>The model or adapter folder is missing or holds what cannot be loaded (the message names the file).</summary>
    ModelFolder,
    /// <summary>A <c>ChatOptions</c> value is out of range or not supported (the message names it).</summary>
    InvalidOptions,
    /// <summary>A message holds content other than text (images, tool calls), or a role the template cannot take.</summary>
    UnsupportedContent,
    /// <summary>The chat template failed to render the conversation.</summary>
    TemplateFailed,
    /// <summary>Prompt plus MaxOutputTokens exceed the model's context length.</summary>
    ContextLengthExceeded,
    /// <summary>ChatOptions.ModelId names a model this client does not serve.</summary>
    UnknownModel,
}

/// <summary>A request or a model folder the client cannot use, with the <see cref="Reason"/> and the offending value named in the message.</summary>
public sealed class RaftChatClientException(RaftChatErrorReason reason, string message, Exception? inner = null) : Exception(message, inner)
{
    public RaftChatErrorReason Reason { get; } = reason;
}
