using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RaftPipeline.Training.Distributed;

/// <summary>
/// The job's TCP control channel, a star around rank 0 at MASTER_ADDR:MASTER_PORT (rank 0 listens, the others connect
/// with retries until a timeout, as torchrun's TCPStore does). It carries small messages: the NCCL unique id, barriers,
/// the CPU collective's tensors, and failures. One reader thread per socket watches for failure frames, so a rank that
/// fails makes every other rank stop with that rank's message (<see cref="RemoteRankFailedException"/>) even while it
/// is busy elsewhere (<see cref="PeerFailed"/> lets an NCCL communicator abort its pending kernels); a peer that drops
/// its connection without saying goodbye counts as failed too.
/// <para>Frames: [kind: 1 byte][length: int32 little-endian][payload]; a failure's payload is the origin rank (int32)
/// and its UTF-8 message. Rank 0 relays a failure to every other rank.</para>
/// </summary>
public sealed class Rendezvous : IDisposable
{
    const byte DataFrame = 1, FailureFrame = 2, GoodbyeFrame = 3;
    const int Magic = 0x52414654; // "RAFT": a stray client on the port is told apart from a rank

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    readonly Peer?[] _peers; // rank 0: one per other rank; others: [0] = rank 0
    readonly TcpListener? _listener;
    readonly CancellationTokenSource _failed = new();
    RemoteRankFailedException? _failure;
    bool _disposed;

    public DistributedWorld World { get; }

    /// <summary>Raised once, on a reader thread, when another rank fails; the argument says which and why.</summary>
    public event Action<RemoteRankFailedException>? PeerFailed;

    /// <summary>The failure seen so far, if any.</summary>
    public RemoteRankFailedException? Failure => Volatile.Read(ref _failure);

    Rendezvous(DistributedWorld world, Peer?[] peers, TcpListener? listener)
    {
        World = world;
        _peers = peers;
        _listener = listener;
    }

    /// <summary>Joins the job: rank 0 waits for every other rank to connect; the others connect to rank 0.</summary>
    /// <exception cref="DistributedSetupException">The port is taken, rank 0 cannot be reached, or ranks disagree.</exception>
    public static Rendezvous Join(DistributedWorld world, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        if (world.WorldSize == 1) return new Rendezvous(world, [], null); // nobody to meet: no port taken
        if (world.Rank == 0)
        {
            var listener = new TcpListener(IPAddress.Any, world.MasterPort);
            try { listener.Start(world.WorldSize); }
            catch (SocketException e)
            {
                throw new DistributedSetupException($"rank 0 cannot listen on port {world.MasterPort} (MASTER_PORT): {e.Message}", e);
            }
            var peers = new Peer?[world.WorldSize];
            try
            {
                for (int joined = 1; joined < world.WorldSize; joined++)
                {
                    var accept = listener.AcceptTcpClientAsync();
                    if (!accept.Wait(Remaining(deadline)))
                        throw new DistributedSetupException(
                            $"rank 0 waited {limit.TotalSeconds:F0} s on port {world.MasterPort} and {world.WorldSize - joined} of {world.WorldSize - 1} other ranks " +
                            $"never connected (missing: {string.Join(", ", Enumerable.Range(1, world.WorldSize - 1).Where(r => peers[r] is null))})");
                    var client = accept.Result;
                    client.NoDelay = true;
                    var stream = client.GetStream();
                    var (magic, rank, size) = (ReadInt(stream), ReadInt(stream), ReadInt(stream));
                    if (magic != Magic)
                        throw new DistributedSetupException($"rank 0: a connection to port {world.MasterPort} is not from a RaftPipeline rank (another program uses MASTER_PORT?)");
                    if (size != world.WorldSize)
                        throw new DistributedSetupException($"rank {rank} says WORLD_SIZE={size}, rank 0 has WORLD_SIZE={world.WorldSize}: every rank must be launched with the same world size");
                    if (rank < 1 || rank >= world.WorldSize || peers[rank] is not null)
                        throw new DistributedSetupException($"rank 0: a process joined as rank {rank}, which is {(rank >= 1 && rank < world.WorldSize ? "taken already" : "out of range")}: expected each of 1 to {world.WorldSize - 1} exactly once");
                    peers[rank] = new Peer(rank, client);
                }
                foreach (var p in peers) if (p is not null) WriteInt(p.Stream, Magic); // everyone is here
            }
            catch
            {
                foreach (var p in peers) p?.Client.Dispose();
                listener.Stop();
                throw;
            }
            return new Rendezvous(world, peers, listener).StartReaders();
        }
        else
        {
            Exception? last = null;
            while (DateTime.UtcNow < deadline)
            {
                var client = new TcpClient { NoDelay = true };
                try
                {
                    var connect = client.ConnectAsync(world.MasterAddress, world.MasterPort);
                    if (!connect.Wait(Remaining(deadline))) { client.Dispose(); break; }
                    var stream = client.GetStream();
                    WriteInt(stream, Magic); WriteInt(stream, world.Rank); WriteInt(stream, world.WorldSize);
                    // Rank 0 answers once every rank is in, so Join returns on all ranks together.
                    client.ReceiveTimeout = (int)Math.Max(1, Remaining(deadline).TotalMilliseconds);
                    if (ReadInt(stream) != Magic) throw new IOException("unexpected answer");
                    client.ReceiveTimeout = 0;
                    return new Rendezvous(world, [new Peer(0, client)], null).StartReaders();
                }
                catch (Exception e) when (e is SocketException or IOException or AggregateException)
                {
                    client.Dispose();
                    last = e is AggregateException a ? a.InnerException ?? a : e;
                    Thread.Sleep(TimeSpan.FromMilliseconds(200));
                }
            }
            throw new DistributedSetupException(
                $"rank {world.Rank} could not join rank 0 at {world.MasterAddress}:{world.MasterPort} (MASTER_ADDR:MASTER_PORT) within {limit.TotalSeconds:F0} s" +
                (last is null ? "" : $": {last.Message}"), last);
        }
    }

    static TimeSpan Remaining(DateTime deadline)
    {
        var left = deadline - DateTime.UtcNow;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    Rendezvous StartReaders()
    {
        foreach (var p in _peers)
            if (p is not null)
                new Thread(() => ReadLoop(p)) { IsBackground = true, Name = $"raft-rendezvous-rank{p.Rank}" }.Start();
        return this;
    }

    void ReadLoop(Peer peer)
    {
        try
        {
            while (true)
            {
                int kind = peer.Stream.ReadByte();
                if (kind < 0) { if (!_disposed) Fail(peer.Rank, "the process exited or lost its connection without reporting an error (killed, or out of memory?)", relay: true); return; }
                var payload = ReadBytes(peer.Stream, ReadInt(peer.Stream));
                switch (kind)
                {
                    case DataFrame: peer.Inbox.Add(payload); break;
                    case FailureFrame:
                        Fail(BitConverter.ToInt32(payload, 0), Encoding.UTF8.GetString(payload, 4, payload.Length - 4), relay: true);
                        return;
                    case GoodbyeFrame: peer.Left = true; peer.Inbox.CompleteAdding(); return;
                    default: Fail(peer.Rank, $"sent an unknown control frame ({kind})", relay: true); return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            if (!_disposed && !peer.Left) Fail(peer.Rank, $"its connection broke: {e.Message}", relay: true);
        }
        catch (Exception e)
        {
            // Anything else (a malformed frame, say) fails the job with its reason: an exception leaving this background
            // thread would end the whole process instead.
            if (!_disposed) Fail(peer.Rank, $"sent what this rank could not read: {e.Message}", relay: true);
        }
    }

    /// <summary>Records a failure once, relays it (rank 0 to every other rank) and wakes everything waiting here.</summary>
    void Fail(int rank, string message, bool relay)
    {
        var failure = new RemoteRankFailedException(rank, message);
        if (Interlocked.CompareExchange(ref _failure, failure, null) is not null) return;
        if (relay && World.Rank == 0)
            foreach (var p in _peers)
                if (p is not null && p.Rank != rank) TrySend(p, FailureFrame, FailurePayload(rank, message));
        // Dispose may run on another thread between a reader's _disposed check and here; the token is gone then and
        // nobody waits on it any more.
        try { _failed.Cancel(); } catch (ObjectDisposedException) { return; }
        PeerFailed?.Invoke(failure);
    }

    /// <summary>Tells every rank that this one failed, with its message; they stop with it. Safe to call more than once.</summary>
    public void ReportFailure(string message)
    {
        if (_disposed || Failure is not null) return;
        var payload = FailurePayload(World.Rank, message);
        foreach (var p in _peers) if (p is not null) TrySend(p, FailureFrame, payload);
    }

    static byte[] FailurePayload(int rank, string message)
    {
        var text = Encoding.UTF8.GetBytes(message);
        var payload = new byte[4 + text.Length];
        BitConverter.TryWriteBytes(payload, rank);
        text.CopyTo(payload, 4);
        return payload;
    }

    /// <summary>Sends <paramref name="payload"/> to rank <paramref name="to"/> (rank 0 to anyone; the others to rank 0 only).</summary>
    public void Send(int to, byte[] payload)
    {
        ThrowIfFailed();
        Send(PeerOf(to), DataFrame, payload);
    }

    /// <summary>The next message from rank <paramref name="from"/>; throws the failure if a rank fails meanwhile.</summary>
    public byte[] Receive(int from) =>
        TryReceive(from, out var message)
            ? message
            : throw new RemoteRankFailedException(from, "it left the job (finished its work) while this rank still expected a message from it");

    /// <summary>
    /// The next message from rank <paramref name="from"/>, or false when that rank has left the job cleanly (said
    /// goodbye) with nothing more to say; throws the failure if a rank fails meanwhile.
    /// </summary>
    public bool TryReceive(int from, out byte[] message)
    {
        var peer = PeerOf(from);
        try
        {
            if (peer.Inbox.TryTake(out var item, Timeout.Infinite, _failed.Token)) { message = item; return true; }
        }
        catch (OperationCanceledException) { }
        ThrowIfFailed();
        message = [];
        return false;
    }

    /// <summary>Rank 0's <paramref name="payload"/> on every rank (the others pass null).</summary>
    public byte[] Broadcast(byte[]? payload)
    {
        if (World.Rank == 0)
        {
            ArgumentNullException.ThrowIfNull(payload);
            for (int r = 1; r < World.WorldSize; r++) Send(r, payload);
            return payload;
        }
        return Receive(0);
    }

    /// <summary>Returns once every rank has called it (or throws the first failure).</summary>
    public void Barrier()
    {
        if (World.Rank == 0)
        {
            for (int r = 1; r < World.WorldSize; r++) Receive(r);
            for (int r = 1; r < World.WorldSize; r++) Send(r, []);
        }
        else
        {
            Send(0, []);
            Receive(0);
        }
    }

    public void ThrowIfFailed()
    {
        if (Failure is { } f) throw new RemoteRankFailedException(f.FailedRank, f.RemoteMessage);
    }

    Peer PeerOf(int rank)
    {
        var peer = World.Rank == 0
            ? (rank >= 1 && rank < _peers.Length ? _peers[rank] : null)
            : (rank == 0 ? _peers[0] : null);
        return peer ?? throw new ArgumentOutOfRangeException(nameof(rank), rank,
            $"rank {World.Rank} has no channel to rank {rank}: messages go between rank 0 and the others");
    }

    static void Send(Peer peer, byte kind, byte[] payload)
    {
        var header = new byte[5];
        header[0] = kind;
        BitConverter.TryWriteBytes(header.AsSpan(1), payload.Length);
        lock (peer.SendLock)
        {
            peer.Stream.Write(header);
            peer.Stream.Write(payload);
        }
    }

    static void TrySend(Peer peer, byte kind, byte[] payload)
    {
        try { Send(peer, kind, payload); }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { } // that peer is gone already
    }

    static void WriteInt(Stream s, int v)
    {
        Span<byte> b = stackalloc byte[4];
        BitConverter.TryWriteBytes(b, v);
        s.Write(b);
    }

    static int ReadInt(Stream s) => BitConverter.ToInt32(ReadBytes(s, 4));

    static byte[] ReadBytes(Stream s, int count)
    {
        if (count < 0) throw new IOException($"negative frame length {count}");
        var buffer = new byte[count];
        s.ReadExactly(buffer);
        return buffer;
    }

    /// <summary>Says goodbye (a clean exit, not a failure) and closes the connections.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (Failure is null)
            foreach (var p in _peers) if (p is not null) TrySend(p, GoodbyeFrame, []);
        _disposed = true;
        foreach (var p in _peers)
        {
            if (p is null) continue;
            try { p.Client.Client.Shutdown(SocketShutdown.Send); } catch (SocketException) { } catch (ObjectDisposedException) { }
        }
        // Rank 0 lets the others read its goodbye before the sockets go.
        foreach (var p in _peers) p?.Client.Dispose();
        _listener?.Stop();
        _failed.Dispose();
    }

    sealed class Peer(int rank, TcpClient client)
    {
        public int Rank { get; } = rank;
        public TcpClient Client { get; } = client;
        public NetworkStream Stream { get; } = client.GetStream();
        public BlockingCollection<byte[]> Inbox { get; } = new();
        public object SendLock { get; } = new();
        public volatile bool Left;
    }
}
