using YamlDotNet.Core;

namespace RaftPipeline.Core.Spec.Internal;

static class YamlText
{
    /// <summary>YamlDotNet's message without the "(Line: 3, Col: 1, Idx: 20) - (...): " prefix: the error's location already says it.</summary>
    public static string Message(YamlException e)
    {
        var message = e.Message;
        var marker = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && marker >= 0 ? message[(marker + 3)..] : message;
    }
}
