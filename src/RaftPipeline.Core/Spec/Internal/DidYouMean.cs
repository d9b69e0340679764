namespace RaftPipeline.Core.Spec.Internal;

/// <summary>Suggestions for misspelt names, by edit distance (optimal string alignment: a swap counts as one edit).</summary>
public static class DidYouMean
{
    /// <summary>The closest candidate within a distance that scales with the word's length, or null.</summary>
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        var limit = Math.Max(1, Math.Min(3, word.Length / 3));
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var d = Distance(word.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d < bestDistance && d <= limit)
            {
                best = candidate;
                bestDistance = d;
            }
        }
        if (best is not null) return best;
        // A part of a snake_case name ("alpha" for lora_alpha, "rate" for learning_rate), when only one has it.
        var byPart = candidates.Where(c => c.Split('_', '-').Contains(word, StringComparer.OrdinalIgnoreCase)).Take(2).ToList();
        return byPart.Count == 1 ? byPart[0] : null;
    }

    /// <summary>"; did you mean 'x'?" or "" — ready to append to a message.</summary>
    public static string Suffix(string word, IEnumerable<string> candidates) =>
        Closest(word, candidates) is { } c ? $"; did you mean '{c}'?" : "";

    /// <summary>"; did you mean 'x'?" when a candidate is close, otherwise "; " + <paramref name="otherwise"/> (e.g. the list of what is accepted).</summary>
    public static string Hint(string word, IEnumerable<string> candidates, string otherwise) =>
        Closest(word, candidates) is { } c ? $"; did you mean '{c}'?" : $"; {otherwise}";

    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        for (var j = 1; j <= b.Length; j++)
        {
            var cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
        }
        return d[a.Length, b.Length];
    }
}
