namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>
/// A Python-level failure inside the runtime (TypeError, UndefinedError, ...). The interpreter turns it into a
/// <see cref="TemplateRuntimeException"/> carrying the template position of the expression that failed.
/// </summary>
public sealed class PyException(string errorType, string message) : Exception(message)
{
    public string ErrorType { get; } = errorType;

    public static PyException Type(string message) => new("TypeError", message);
    public static PyException Value(string message) => new("ValueError", message);
    public static PyException Undefined(string message) => new("UndefinedError", message);
    public static PyException Security(string message) => new("SecurityError", message);
    /// <summary>Something Python would do that this interpreter deliberately does not imitate.</summary>
    public static PyException Unsupported(string what) => new("Unsupported", $"{what} is not supported by this Jinja interpreter");
}
