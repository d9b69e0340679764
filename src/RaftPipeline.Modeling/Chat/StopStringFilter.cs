using System.Text;

namespace RaftPipeline.Modeling.Chat;

/// <summary>
/// Streams text that must end before the first stop string, as the OpenAI API returns it (the stop string itself is
/// never sent). A delta is released only up to where a stop string could still begin (the longest end of the text that
/// starts a stop string is held back), so a stop string split over several tokens is never half-sent;
/// <see cref="Flush"/> releases the rest once generation has ended.
/// </summary>
public sealed class StopStringFilter(IReadOnlyList<string> stops)
{
    readonly StringBuilder _text = new();
    int _released;

    /// <summary>True once a stop string has appeared; nothing more is released after it.</summary>
    public bool Stopped { get; private set; }

    public string Push(string delta)
    {
        if (Stopped) return "";
        _text.Append(delta);
        var text = _text.ToString();
        int stop = FirstStop(text);
        if (stop >= 0)
        {
            Stopped = true;
            return Release(text, stop);
        }
        int safe = text.Length - PartialStopAtEnd(text);
        // Never cut between the halves of a surrogate pair.
        if (safe > 0 && safe < text.Length && char.IsHighSurrogate(text[safe - 1])) safe--;
        return Release(text, Math.Max(safe, _released));
    }

    public string Flush()
    {
        var text = _text.ToString();
        int stop = FirstStop(text);
        return Release(text, stop >= 0 ? stop : text.Length);
    }

    string Release(string text, int end)
    {
        if (end <= _released) return "";
        var piece = text[_released..end];
        _released = end;
        return piece;
    }

    /// <summary>The length of the longest end of <paramref name="text"/> that is the beginning of a stop string.</summary>
    int PartialStopAtEnd(string text)
    {
        int longest = 0;
        foreach (var s in stops)
        {
            for (int k = Math.Min(s.Length - 1, text.Length); k > longest; k--)
            {
                if (string.CompareOrdinal(text, text.Length - k, s, 0, k) == 0)
                {
                    longest = k;
                    break;
                }
            }
        }
        return longest;
    }

    int FirstStop(string text)
    {
        int first = -1;
        foreach (var s in stops)
        {
            int i = text.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (first < 0 || i < first)) first = i;
        }
        return first;
    }
}
