namespace RaftPipeline.Core.Spec;

/// <summary>
/// Input quoted in a message is cut to a readable length, with a count of what was left out: a CSV decoded with the
/// wrong encoding is one "column" of 30 MB, and an error must not print it.
/// </summary>
public static class QuotedText
{
    /// <summary>What one quoted value may show.</summary>
    public const int MaxChars = 80;

    /// <summary>What a whole message may show.</summary>
    public const int MaxMessageChars = 600;

    /// <summary>How many items of a list a message shows.</summary>
    public const int MaxItems = 20;

    /// <summary><paramref name="text"/>, or its first <paramref name="max"/> characters and "… (N more characters)".</summary>
    public static string Cut(string text, int max = MaxChars)
    {
        if (text.Length <= max) return text;
        var keep = char.IsHighSurrogate(text[max - 1]) ? max - 1 : max; // never half a character
        return $"{text[..keep]}… ({text.Length - keep} more characters)";
    }

    /// <summary>Items quoted as <c>'a', 'b'</c>, each cut, at most <paramref name="maxItems"/> of them, then "and N more".</summary>
    public static string List(IReadOnlyCollection<string> items, int maxItems = MaxItems)
    {
        var shown = string.Join(", ", items.Take(maxItems).Select(i => $"'{Cut(i)}'"));
        return items.Count > maxItems ? $"{shown} and {items.Count - maxItems} more" : shown;
    }
}
