using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace RaftPipeline.Cli.Tests.Serve;

/// <summary>`raft serve` as a real process (the raft.dll beside the tests), on a free port; its address is read from the line it prints.</summary>
public sealed partial class ServeProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _stderr = new();

    ServeProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }
    public int Id => _process.Id;
    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public static async Task<ServeProcess> StartAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "raft.dll"));
        start.ArgumentList.Add("serve");
        foreach (var a in args) start.ArgumentList.Add(a);
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add("0");
        var process = Process.Start(start)!;
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (Listening().Match(line) is { Success: true } m)
            {
                var served = new ServeProcess(process, new Uri(m.Groups[1].Value));
                lock (stderr) served._stderr.Append(stderr);
                process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (served._stderr) served._stderr.AppendLine(e.Data); };
                return served;
            }
        }
        process.WaitForExit(5000);
        throw new InvalidOperationException($"raft serve ended without listening (exit {process.ExitCode}): {stderr}");
    }

    /// <summary>SIGTERM, as a service manager or `docker stop` sends it.</summary>
    public void Terminate() => Process.Start("kill", ["-TERM", Id.ToString()])!.WaitForExit();

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Runs curl with these arguments; returns its exit code and stdout.</summary>
    public static async Task<(int Exit, string Out)> Curl(params string[] args)
    {
        var start = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var curl = Process.Start(start)!;
        var output = curl.StandardOutput.ReadToEndAsync();
        _ = curl.StandardError.ReadToEndAsync();
        await curl.WaitForExitAsync();
        return (curl.ExitCode, await output);
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    [GeneratedRegex(@"listening on (http://\S+?)/? ")]
    private static partial Regex Listening();
}
