using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Generation;

namespace RaftPipeline.Serving.Protocol;

/// <summary>
/// How an answer is written for each endpoint: a chat completion (a message; in a stream, deltas opened by the
/// assistant role) or a text completion (text). Everything else (ids, usage, finish reasons, the stream's framing)
/// is the same for both.
/// </summary>
public abstract class ResponseShape
{
    public static readonly ResponseShape Chat = new ChatShape();
    public static readonly ResponseShape Text = new TextShape();

    public abstract string IdPrefix { get; }
    public abstract string Object { get; }
    public abstract string ChunkObject { get; }
    /// <summary>The choice of a whole (non-streamed) answer.</summary>
    public abstract JsonObject Choice(string text, string finishReason);
    /// <summary>The choice of a stream chunk; <paramref name="finishReason"/> only on the last.</summary>
    public abstract JsonObject Delta(string? text, string? finishReason);
    /// <summary>The chunk a stream opens with, if the shape has one (the chat's role).</summary>
    public abstract JsonObject? Opening();

    /// <summary>OpenAI's finish reasons: "stop" for an eos id or a stop string, "length" for max_tokens.</summary>
    public static string FinishReasonName(FinishReason finish) => finish switch
    {
        FinishReason.Length => "length",
        _ => "stop",
    };

    sealed class ChatShape : ResponseShape
    {
        public override string IdPrefix => "chatcmpl-";
        public override string Object => "chat.completion";
        public override string ChunkObject => "chat.completion.chunk";

        public override JsonObject Choice(string text, string finishReason) => new()
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text },
            ["logprobs"] = null,
            ["finish_reason"] = finishReason,
        };

        public override JsonObject Delta(string? text, string? finishReason) => new()
        {
            ["index"] = 0,
            ["delta"] = text is null ? new JsonObject() : new JsonObject { ["content"] = text },
            ["logprobs"] = null,
            ["finish_reason"] = finishReason,
        };

        public override JsonObject? Opening() => new()
        {
            ["index"] = 0,
            ["delta"] = new JsonObject { ["role"] = "assistant", ["content"] = "" },
            ["logprobs"] = null,
            ["finish_reason"] = null,
        };
    }

    sealed class TextShape : ResponseShape
    {
        public override string IdPrefix => "cmpl-";
        public override string Object => "text_completion";
        public override string ChunkObject => "text_completion";

        public override JsonObject Choice(string text, string finishReason) => new()
        {
            ["index"] = 0,
            ["text"] = text,
            ["logprobs"] = null,
            ["finish_reason"] = finishReason,
        };

        public override JsonObject Delta(string? text, string? finishReason) => Choice(text ?? "", finishReason!);

        public override JsonObject? Opening() => null;
    }
}
