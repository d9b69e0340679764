using System.Text;

namespace RaftPipeline.Stages.Format;

/// <summary>
/// <c>format.md</c> in the run's report folder: the counts of both splits and two rendered training texts, so a person
/// sees exactly what the model is trained on (special tokens, the system prompt, a synthesized negative) at a glance.
/// </summary>
public static class FormatReport
{
    public const string FileName = "format.md";

    public sealed record Split(string Name, int Rows, IReadOnlyList<ChatExample> Examples)
    {
        public int Negatives => Examples.Count(e => e.Kind == ExampleKind.SynthesizedNegative);
        public int OraclesDropped => Examples.Count(e => e.Kind == ExampleKind.RaftDistractorsOnly);

        public string Summary =>
            $"{Name}: {Rows} rows → {Examples.Count} examples ({Negatives} negatives synthesized, {OraclesDropped} oracles dropped)";
    }

    public static string Build(Split train, Split test, IReadOnlyList<string> trainTexts, string settings, string refusal)
    {
        var md = new StringBuilder();
        md.Append("# format\n\n");
        md.Append($"- {train.Summary}\n- {test.Summary}\n- {settings}\n");
        foreach (int i in Samples(train.Examples, refusal))
        {
            var e = train.Examples[i];
            md.Append($"\n## Example {i + 1} of {train.Examples.Count}: {e.Kind}, {e.Source} row {e.SourceRow}\n\n");
            string fence = Fence(trainTexts[i]);
            md.Append(fence).Append("text\n").Append(trainTexts[i]);
            if (!trainTexts[i].EndsWith('\n')) md.Append('\n');
            md.Append(fence).Append('\n');
        }
        return md.ToString();
    }

    /// <summary>
    /// The first example, and the first one that differs from it in kind or in being a refusal (the data's own
    /// unanswerable rows are Plain like the others): the two halves of the recipe side by side where the data has both.
    /// </summary>
    private static IEnumerable<int> Samples(IReadOnlyList<ChatExample> examples, string refusal)
    {
        if (examples.Count == 0) yield break;
        yield return 0;
        var first = examples[0];
        int other = -1;
        for (int i = 1; i < examples.Count && other < 0; i++)
            if (examples[i].Kind != first.Kind || (examples[i].Assistant == refusal) != (first.Assistant == refusal)) other = i;
        if (other < 0 && examples.Count > 1) other = 1;
        if (other > 0) yield return other;
    }

    /// <summary>A code fence longer than any run of backticks in the text, so the text cannot close it.</summary>
    private static string Fence(string text)
    {
        int longest = 0, run = 0;
        foreach (char c in text)
        {
            run = c == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }
        return new string('`', Math.Max(3, longest + 1));
    }
}
