using System.Text;
using RaftPipeline.Core.Engine;

namespace RaftPipeline.Core.TestHost;

/// <summary>
/// A stage double that is a true function of its inputs: it writes <c>out.txt</c> holding its kind, its
/// canonical parameters and the content of every input (an upstream artifact's out.txt, an external file's
/// text, or an external folder's sorted file names and texts). Counts its runs for the tests.
/// </summary>
public sealed class EchoExecutor(string kind, int version = 1) : IStageExecutor
{
    int _runs;

    public string Kind => kind;
    public int Version => version;
    public int Runs => _runs;

    /// <summary>Delay per run, to make runs overlap in concurrency tests.</summary>
    public TimeSpan Delay { get; init; }

    public async Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _runs);
        var text = new StringBuilder();
        text.Append(kind).Append('\n').Append(CanonicalParameters.ToCanonicalText(context.Stage.Parameters)).Append('\n');
        foreach (var (slot, paths) in context.Inputs.OrderBy(p => p.Key, StringComparer.Ordinal))
        foreach (var path in paths)
            text.Append(slot).Append(": ").Append(ReadInput(path)).Append('\n');
        context.Progress.Log($"{context.Stage.Name}: echoing {context.Inputs.Count} slots");
        context.Progress.Report("echo", 1, 2);
        if (Delay > TimeSpan.Zero) await Task.Delay(Delay, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(context.OutputDirectory, "out.txt"), text.ToString(), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(context.ReportDirectory, "report.txt"), $"bytes: {text.Length}\n", cancellationToken);
        context.Progress.Report("echo", 2, 2);
        return new StageOutcome(new System.Text.Json.Nodes.JsonObject { ["bytes"] = text.Length });
    }

    static string ReadInput(string path)
    {
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        var upstream = Path.Combine(path, "out.txt");
        if (File.Exists(upstream)) return "[" + File.ReadAllText(upstream).Replace("\n", " | ").Trim() + "]";
        var files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal);
        return string.Join(",", files.Select(f => $"{Path.GetRelativePath(path, f)}={File.ReadAllText(f).Trim()}"));
    }
}
