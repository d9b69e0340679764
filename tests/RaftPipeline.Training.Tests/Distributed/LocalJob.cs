using System.Net;
using System.Net.Sockets;
using RaftPipeline.Training.Distributed;

namespace RaftPipeline.Training.Tests.Distributed;

/// <summary>Runs a W-rank job in this process: a thread per rank, a rendezvous on a free localhost port.</summary>
public static class LocalJob
{
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static DistributedWorld World(int rank, int worldSize, int port) =>
        new(rank, worldSize, rank, "127.0.0.1", port, "test");

    /// <summary>Each rank's result, or the exception it ended with, by rank.</summary>
    public static (T? Result, Exception? Error)[] Run<T>(int worldSize, Func<Rendezvous, T> work, TimeSpan? timeout = null)
    {
        int port = FreePort();
        var results = new (T?, Exception?)[worldSize];
        var threads = Enumerable.Range(0, worldSize).Select(rank => new Thread(() =>
        {
            try
            {
                using var rendezvous = Rendezvous.Join(World(rank, worldSize, port), TimeSpan.FromSeconds(30));
                results[rank] = (work(rendezvous), null);
            }
            catch (Exception e) { results[rank] = (default, e); }
        }) { IsBackground = true, Name = $"test-rank-{rank}" }).ToList();
        threads.ForEach(t => t.Start());
        var limit = timeout ?? TimeSpan.FromSeconds(90);
        foreach (var t in threads)
            Assert.True(t.Join(limit), $"a rank did not finish within {limit.TotalSeconds} s: the job hangs");
        return results;
    }

    public static T[] RunAll<T>(int worldSize, Func<Rendezvous, T> work, TimeSpan? timeout = null)
    {
        var results = Run(worldSize, work, timeout);
        foreach (var (rank, (_, error)) in results.Select((r, i) => (i, r)))
            if (error is not null) throw new Xunit.Sdk.XunitException($"rank {rank} failed: {error}");
        return results.Select(r => r.Result!).ToArray();
    }
}
