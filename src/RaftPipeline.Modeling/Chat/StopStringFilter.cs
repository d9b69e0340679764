using System.Text;

namespace RaftPipeline.Modeling.Chat;

/// <summary>
/// Streams text that must end before the first stop string, as the OpenAI API returns it (the stop string itself is
/// never sent). A delta is released only up to where no stop string could still begin, so a stop string split over
/// several tokens is never half-sent; <see cref="Flush"/> releases the rest once generation has ended.
/// </summary>
public sealed class StopStringFilter(IReadOnlyList<string> stops)
{
    readonly StringBuilder _text = new();
    readonly int _holdBack = stops.Count == 0 ? 0 : stops.Max(s => s.Length) - 1;
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
        int safe = text.Length - _holdBack;
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
