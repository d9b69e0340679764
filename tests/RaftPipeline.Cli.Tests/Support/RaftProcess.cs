using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace RaftPipeline.Cli.Tests.Support;

/// <summary>
/// The tool (<c>dotnet raft.dll ARGS</c>, the CLI assembly built beside the tests) in its own process, so a test can
/// signal it as a user or a scheduler would: SIGKILL (no handler, no finally, no flush runs) or SIGTERM.
/// </summary>
public sealed class RaftProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _output = new();

    public RaftProcess(params string[] args)
    {
        // dotnet test sets DOTNET_HOST_PATH to the muxer that runs the tests.
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(typeof(RaftCli).Assembly.Location);
        foreach (var a in args) info.ArgumentList.Add(a);
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { throw new TimeoutException($"raft did not exit within {timeout}; output so far:\n{Output}"); }
        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    /// <summary>Waits until <paramref name="condition"/> holds (true) or the process exits first (false).</summary>
    public async Task<bool> WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (_process.HasExited) return false;
            if (DateTime.UtcNow > until) throw new TimeoutException($"raft did not get there within {timeout}; output so far:\n{Output}");
            await Task.Delay(20);
        }
        return true;
    }

    /// <summary>Whether the process exits within <paramref name="time"/> (false: it is still running).</summary>
    public async Task<bool> ExitsWithinAsync(TimeSpan time)
    {
        using var cts = new CancellationTokenSource(time);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { return false; }
        return true;
    }

    /// <summary>SIGKILL, as <c>kill -9</c>: the process gets no chance to clean up.</summary>
    public void Kill()
    {
        try { _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { } // it had exited already
        _process.WaitForExit();
    }

    /// <summary>Sends <paramref name="signal"/> (15: SIGTERM, 2: SIGINT) as <c>kill -s</c> does.</summary>
    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
    }
}
