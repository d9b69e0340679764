namespace RaftPipeline.Text.Templates.Jinja;

/// <summary>A template could not be parsed or rendered. Carries the template's name and the 1-based line and column.</summary>
public abstract class TemplateException : Exception
{
    protected TemplateException(string detail, string sourceName, int line, int column, Exception? inner = null)
        : base($"{sourceName}:{line}:{column}: {detail}", inner)
    {
        Detail = detail;
        SourceName = sourceName;
        Line = line;
        Column = column;
    }

    /// <summary>The message without the location prefix.</summary>
    public string Detail { get; }
    public string SourceName { get; }
    public int Line { get; }
    public int Column { get; }
}

/// <summary>The template text is not valid Jinja, or uses a construct this interpreter does not support.</summary>
public sealed class TemplateSyntaxException(string detail, string sourceName, int line, int column)
    : TemplateException(detail, sourceName, line, column);

/// <summary>Rendering failed the way Python/jinja2 would fail (TypeError, UndefinedError, SecurityError, ...).</summary>
public sealed class TemplateRuntimeException(string errorType, string detail, string sourceName, int line, int column)
    : TemplateException($"{errorType}: {detail}", sourceName, line, column)
{
    /// <summary>The Python exception type jinja2 would raise, e.g. "TypeError" or "UndefinedError".</summary>
    public string ErrorType { get; } = errorType;
    /// <summary>The Python-side message alone.</summary>
    public string PythonMessage { get; } = detail;
}

/// <summary>The template called <c>raise_exception(message)</c>: transformers raises a TemplateError with that message.</summary>
public sealed class TemplateRaisedException(string message, string sourceName, int line, int column)
    : TemplateException(message, sourceName, line, column)
{
    /// <summary>Exactly the message the template passed.</summary>
    public string RaisedMessage { get; } = message;
}
