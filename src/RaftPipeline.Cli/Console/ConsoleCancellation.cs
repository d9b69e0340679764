using System.Runtime.InteropServices;

namespace RaftPipeline.Cli.Console;

/// <summary>
/// Turns the first Ctrl-C (or SIGTERM) into a cancellation the run handles cleanly: the running stage is told
/// to stop, finished artifacts stay. A second Ctrl-C ends the process at once. System.CommandLine's own
/// handling is not used because it stops waiting for the action after a fixed two seconds, which is less
/// than a training step may need to wind down. A verb returns <see cref="RaftCli.ExitCodes.Cancelled"/> when it
/// stopped; <see cref="ExitCode"/> turns that into 143 when SIGTERM was the cause (128 + the signal, as shells do).
/// </summary>
public sealed class ConsoleCancellation : IDisposable
{
    readonly CancellationTokenSource _cts = new();
    readonly Action<string> _say;
    readonly PosixSignalRegistration? _sigterm;
    int _presses;
    volatile bool _terminated;

    public ConsoleCancellation(Action<string> say)
    {
        _say = say;
        System.Console.CancelKeyPress += OnCancelKeyPress;
        if (!OperatingSystem.IsWindows())
            _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                _terminated = true;
                Cancel("SIGTERM");
            });
    }

    public CancellationToken Token => _cts.Token;

    /// <summary>The verb's exit code, with a cancellation that SIGTERM caused reported as 143 rather than 130.</summary>
    public int ExitCode(int verbExit) =>
        verbExit == RaftCli.ExitCodes.Cancelled && _terminated ? RaftCli.ExitCodes.Terminated : verbExit;

    void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        if (Interlocked.Increment(ref _presses) > 1) return; // second press: let the runtime end the process
        e.Cancel = true;
        Cancel("Ctrl-C");
    }

    void Cancel(string why)
    {
        _say($"{why}: stopping after the running stage winds down (finished artifacts are kept); press Ctrl-C again to kill");
        _cts.Cancel();
    }

    public void Dispose()
    {
        System.Console.CancelKeyPress -= OnCancelKeyPress;
        _sigterm?.Dispose();
        _cts.Dispose();
    }
}
