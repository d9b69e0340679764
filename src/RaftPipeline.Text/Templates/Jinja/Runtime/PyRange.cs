namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>The value of <c>range(...)</c>: re-iterable, sized, prints as range(a, b).</summary>
public sealed class PyRange(long start, long stop, long step)
{
    public long Start { get; } = start;
    public long Stop { get; } = stop;
    public long Step { get; } = step;

    public long Count => Step > 0
        ? Math.Max(0, (Stop - Start + Step - 1) / Step)
        : Math.Max(0, (Start - Stop - Step - 1) / -Step);

    public IEnumerable<object?> Values()
    {
        for (long i = 0, v = Start; i < Count; i++, v += Step) yield return v;
    }
}
