using System.Diagnostics;
using System.Text;

namespace RaftPipeline.Core.Tests.Runs;

/// <summary>Runs RaftPipeline.Core.TestHost (copied beside the tests) in its own process.</summary>
public sealed class TestHostProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _output = new();

    public TestHostProcess(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "RaftPipeline.Core.TestHost.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"the test host was not built beside the tests: {dll}");
        // dotnet test sets DOTNET_HOST_PATH to the muxer that runs the tests.
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the test host did not exit within {timeout}; output so far:\n{Output}");
        }
        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no handler, no finally block, no flush runs in the child.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
    }

    /// <summary>Waits until <paramref name="path"/> exists (the child's signal), or fails with the child's output.</summary>
    public async Task WaitForFileAsync(string path, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (!File.Exists(path))
        {
            if (_process.HasExited) throw new InvalidOperationException($"the test host exited ({_process.ExitCode}) before writing {path}:\n{Output}");
            if (DateTime.UtcNow > until) throw new TimeoutException($"the test host did not write {path} within {timeout}:\n{Output}");
            await Task.Delay(50);
        }
    }
}
