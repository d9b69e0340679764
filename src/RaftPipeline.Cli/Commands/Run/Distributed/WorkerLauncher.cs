using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RaftPipeline.Cli.Commands.Run.Distributed;

/// <summary>
/// <c>raft run --gpus N</c>: starts N worker processes of this same tool, as torchrun's standalone mode does, each with
/// RANK = LOCAL_RANK = r, WORLD_SIZE = N, MASTER_ADDR = 127.0.0.1, MASTER_PORT = a free port, and
/// CUDA_VISIBLE_DEVICES narrowed to the r-th visible GPU (so each worker's "cuda" is its own GPU). Rank 0's output is
/// this command's output; the other ranks' errors are shown with a "[rank r]" prefix (their progress is not). When a
/// worker fails, the others stop with its message (the control channel tells them); any left after a grace period are
/// killed. The exit code is rank 0's, or the first failing rank's when rank 0 succeeded.
/// </summary>
public sealed class WorkerLauncher(TextWriter output, TextWriter error)
{
    /// <summary>How long the other workers get to stop on their own after one failed.</summary>
    public static TimeSpan StopGrace { get; set; } = TimeSpan.FromSeconds(60);

    public int Run(RunOptions options)
    {
        int gpus = options.Gpus ?? 1;
        if (gpus < 1)
        {
            error.WriteLine($"--gpus {gpus}: expected at least 1");
            return RaftCli.ExitCodes.BadInput;
        }
        if (Environment.GetEnvironmentVariable("WORLD_SIZE") is { Length: > 0 } launched)
        {
            error.WriteLine($"--gpus {gpus} inside a launched job (WORLD_SIZE={launched}): use one or the other; under torchrun or srun leave --gpus out");
            return RaftCli.ExitCodes.BadInput;
        }
        var visible = VisibleDevices(Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES"), gpus);
        int port = FreePort();
        var (file, prefix) = WorkerCommand();
        output.WriteLine($"--gpus {gpus}: starting {gpus} worker processes (rendezvous 127.0.0.1:{port})");

        var workers = new List<Worker>();
        try
        {
            for (int rank = 0; rank < gpus; rank++)
            {
                var start = new ProcessStartInfo(file)
                {
                    RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                };
                foreach (var a in prefix.Concat(options.WorkerArguments())) start.ArgumentList.Add(a);
                start.Environment["RANK"] = rank.ToString();
                start.Environment["LOCAL_RANK"] = rank.ToString();
                start.Environment["WORLD_SIZE"] = gpus.ToString();
                start.Environment["LOCAL_WORLD_SIZE"] = gpus.ToString();
                start.Environment["MASTER_ADDR"] = "127.0.0.1";
                start.Environment["MASTER_PORT"] = port.ToString();
                start.Environment["CUDA_VISIBLE_DEVICES"] = visible[rank];
                workers.Add(Worker.Start(rank, start, output, error));
            }
            return Wait(workers);
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
        }
    }

    int Wait(List<Worker> workers)
    {
        var pending = workers.ToList();
        Worker? firstFailure = null;
        DateTime? killAt = null;
        while (pending.Count > 0)
        {
            foreach (var w in pending.Where(w => w.Process.WaitForExit(0)).ToList())
            {
                w.Drain();
                pending.Remove(w);
                if (w.Process.ExitCode != 0 && firstFailure is null)
                {
                    firstFailure = w;
                    killAt = DateTime.UtcNow + StopGrace;
                }
            }
            if (killAt is { } deadline && DateTime.UtcNow > deadline)
            {
                foreach (var w in pending)
                {
                    error.WriteLine($"[rank {w.Rank}] did not stop within {StopGrace.TotalSeconds:F0} s after rank {firstFailure!.Rank} failed: killed");
                    try { w.Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                }
                foreach (var w in pending) { w.Process.WaitForExit(); w.Drain(); }
                pending.Clear();
            }
            if (pending.Count > 0) Thread.Sleep(50);
        }
        var rankZero = workers[0];
        if (firstFailure is not null)
        {
            foreach (var w in workers.Where(w => w.Rank != 0 && w.Process.ExitCode != 0)) w.ShowTail(error);
            error.WriteLine($"data-parallel run failed: rank {firstFailure.Rank} exited first with code {firstFailure.Process.ExitCode}" +
                            (firstFailure.Rank == 0 ? "" : $" (rank 0: {rankZero.Process.ExitCode})"));
            return rankZero.Process.ExitCode != 0 ? rankZero.Process.ExitCode : firstFailure.Process.ExitCode;
        }
        return RaftCli.ExitCodes.Ok;
    }

    /// <summary>The GPU each local rank sees: the r-th of the parent's CUDA_VISIBLE_DEVICES, else r.</summary>
    public static string[] VisibleDevices(string? parentVisible, int gpus)
    {
        if (string.IsNullOrWhiteSpace(parentVisible))
            return Enumerable.Range(0, gpus).Select(i => i.ToString()).ToArray();
        var list = parentVisible.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // A CPU run needs no GPU: workers then see whatever is listed (or nothing), which is harmless.
        return Enumerable.Range(0, gpus).Select(i => i < list.Length ? list[i] : i.ToString()).ToArray();
    }

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>
    /// How to start this tool again: its apphost (<c>raft</c>) when that is what runs, else the dotnet host with the
    /// CLI assembly (under <c>dotnet raft.dll</c>, <c>dotnet tool run</c>, or a test host).
    /// </summary>
    static (string File, string[] Prefix) WorkerCommand()
    {
        string cliAssembly = typeof(RaftCli).Assembly.Location;
        string? process = Environment.ProcessPath;
        string cliName = Path.GetFileNameWithoutExtension(cliAssembly);
        if (process is not null && Path.GetFileNameWithoutExtension(process) == cliName)
            return (process, []);
        string host = process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? process
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet";
        return (host, [cliAssembly]);
    }

    sealed class Worker : IDisposable
    {
        readonly Queue<string> _tail = new();
        public int Rank { get; }
        public Process Process { get; }

        Worker(int rank, Process process) { Rank = rank; Process = process; }

        public static Worker Start(int rank, ProcessStartInfo start, TextWriter output, TextWriter error)
        {
            var process = new Process { StartInfo = start };
            var worker = new Worker(rank, process);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                if (rank == 0) lock (output) output.WriteLine(e.Data);
                else worker.Keep(e.Data);
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (error) error.WriteLine(rank == 0 ? e.Data : $"[rank {rank}] {e.Data}");
            };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return worker;
        }

        void Keep(string line)
        {
            lock (_tail)
            {
                _tail.Enqueue(line);
                while (_tail.Count > 30) _tail.Dequeue();
            }
        }

        /// <summary>Waits until the redirected streams are read to their end.</summary>
        public void Drain() => Process.WaitForExit();

        public void ShowTail(TextWriter error)
        {
            lock (_tail)
                foreach (var line in _tail) error.WriteLine($"[rank {Rank}] {line}");
        }

        public void Dispose()
        {
            if (!Process.HasExited)
                try { Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            Process.Dispose();
        }
    }
}
