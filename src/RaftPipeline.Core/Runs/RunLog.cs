using System.Globalization;

namespace RaftPipeline.Core.Runs;

/// <summary><c>run.log</c>: every line a run prints or a stage logs, with a UTC time and the stage's name; flushed per line.</summary>
public sealed class RunLog : IDisposable
{
    readonly StreamWriter _writer;
    readonly object _gate = new();

    public RunLog(string path)
    {
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), new System.Text.UTF8Encoding(false));
    }

    public void Write(string? stage, string message)
    {
        var time = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        lock (_gate)
        {
            foreach (var line in message.Replace("\r\n", "\n").Split('\n'))
                _writer.Write(stage is null ? $"{time} {line}\n" : $"{time} [{stage}] {line}\n");
            _writer.Flush();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            try
            {
                _writer.Dispose();
            }
            catch (IOException)
            {
                // A full disk: the lines that did not fit were reported when written; closing must not throw again.
            }
        }
    }
}
