namespace RaftPipeline.Stages.Format;

/// <summary>
/// The user message template with <c>{context}</c> and <c>{question}</c> placeholders (the notebook's
/// <c>f"Context: {context}\n---\nQuestion: {question}"</c>). Other braces are literal text.
/// </summary>
public sealed record UserTemplate
{
    public const string Default = "Context: {context}\n---\nQuestion: {question}";

    public string Text { get; }

    public UserTemplate(string text = Default)
    {
        foreach (var placeholder in new[] { "{context}", "{question}" })
            if (!text.Contains(placeholder, StringComparison.Ordinal))
                throw new ArgumentException($"user template must contain {placeholder}: \"{text}\"", nameof(text));
        Text = text;
    }

    /// <summary>Fills both placeholders in one pass, so a context that contains "{question}" stays as written.</summary>
    public string Render(string context, string question)
    {
        var result = new System.Text.StringBuilder(Text.Length + context.Length + question.Length);
        int i = 0;
        while (i < Text.Length)
        {
            if (string.CompareOrdinal(Text, i, "{context}", 0, 9) == 0) { result.Append(context); i += 9; }
            else if (string.CompareOrdinal(Text, i, "{question}", 0, 10) == 0) { result.Append(question); i += 10; }
            else result.Append(Text[i++]);
        }
        return result.ToString();
    }
}
