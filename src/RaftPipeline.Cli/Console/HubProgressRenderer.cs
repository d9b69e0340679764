using RaftPipeline.Hub.Download;

namespace RaftPipeline.Cli.Console;

/// <summary>
/// Draws Hub downloads on stderr: on a terminal a bar redrawn in place per file
/// (<c>org/name  model.safetensors  [#####.....]  52%  1.2 GiB / 2.3 GiB</c>), elsewhere one line per finished file,
/// so logs and tests read cleanly.
/// </summary>
public sealed class HubProgressRenderer(TextWriter error, bool? interactive = null) : IHubProgress
{
    const int BarWidth = 24;
    readonly bool live = interactive ?? (ReferenceEquals(error, System.Console.Error) && !System.Console.IsErrorRedirected);
    readonly object gate = new();

    public void Note(string message)
    {
        lock (gate) error.WriteLine(message);
    }

    public void Transfer(HubTransfer t)
    {
        lock (gate)
        {
            if (live)
            {
                var fraction = t.Total == 0 ? 1 : (double)t.Done / t.Total;
                var filled = (int)Math.Round(fraction * BarWidth);
                error.Write($"\r{t.RepoId}  {t.File}  [{new string('#', filled)}{new string('.', BarWidth - filled)}]  {(int)Math.Floor(fraction * 100),3}%  {Formats.Bytes(t.Done)} / {Formats.Bytes(t.Total)}   ");
                if (t.Finished) error.WriteLine();
            }
            else if (t.Finished)
                error.WriteLine($"{t.RepoId}: downloaded {t.File} ({Formats.Bytes(t.Total)})");
        }
    }
}

/// <summary>Hub notices as run messages (the run's renderer owns the console while a pipeline runs).</summary>
public sealed class RunObserverHubProgress(RaftPipeline.Core.Engine.IRunObserver observer) : IHubProgress
{
    public void Note(string message) => observer.Message(message);

    public void Transfer(HubTransfer t)
    {
        if (t.Finished) observer.Message($"{t.RepoId}: downloaded {t.File} ({Formats.Bytes(t.Total)})");
    }
}
