namespace RaftPipeline.Serving.Protocol;

/// <summary>
/// A request the server refuses, answered as the OpenAI API answers errors: the HTTP status and
/// <c>{"error": {"message", "type", "param", "code"}}</c>. The server keeps serving.
/// </summary>
public sealed class OpenAiException(int status, string message, string type, string? param, string? code) : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    /// <summary>400 invalid_request_error, naming the field at fault.</summary>
    public static OpenAiException BadRequest(string message, string? param = null, string? code = null) =>
        new(400, message, "invalid_request_error", param, code);
}
