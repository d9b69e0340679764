using System.Text.RegularExpressions;

namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// Finds added tokens in text the way Hugging Face does (Aho-Corasick, leftmost-longest): the leftmost
/// occurrence wins, and among tokens starting there the longest.
/// </summary>
/// <remarks>A .NET alternation takes the first alternative that matches at the leftmost position, so the
/// alternatives are ordered longest first to get leftmost-longest.</remarks>
public sealed class AddedTokenMatcher
{
    readonly Regex? _regex;

    public AddedTokenMatcher(IEnumerable<string> contents)
    {
        var ordered = contents.Where(c => c.Length > 0).Distinct(StringComparer.Ordinal)
            .OrderByDescending(c => c.Length).ThenBy(c => c, StringComparer.Ordinal).ToList();
        Count = ordered.Count;
        if (ordered.Count > 0)
            _regex = new Regex(string.Join("|", ordered.Select(Regex.Escape)), RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }

    /// <summary>How many distinct token texts are matched.</summary>
    public int Count { get; }

    /// <summary>Non-overlapping occurrences, left to right, as (offset, length).</summary>
    public List<(int Offset, int Length)> FindAll(ReadOnlySpan<char> text)
    {
        var found = new List<(int, int)>();
        if (_regex is null) return found;
        foreach (var match in _regex.EnumerateMatches(text)) found.Add((match.Index, match.Length));
        return found;
    }
}
