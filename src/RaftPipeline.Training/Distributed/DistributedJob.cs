using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Distributed;

/// <summary>
/// This process's membership in a data-parallel job, for the whole process: the world, the control channel and the
/// collective of each device kind (made on first use: NCCL's communicator costs a rendezvous). The CLI joins the job
/// before the pipeline runs and sets <see cref="Current"/>; train stages take their collective from it. Null when the
/// process trains alone.
/// <para>Train stages meet by name: rank 0 announces each train stage it runs (<see cref="Announce"/>); the other
/// ranks wait for that word (<see cref="AwaitAnnouncement"/>), so a stage rank 0 reuses from its cache is never waited
/// for in a collective. Rank 0 leaving the job while another rank waits <em>releases</em> that rank: it has nothing
/// left to do (<see cref="Released"/>).</para>
/// </summary>
public sealed class DistributedJob : IDisposable
{
    static DistributedJob? _current;

    /// <summary>The job this process belongs to; null: training runs in this process alone.</summary>
    public static DistributedJob? Current
    {
        get => Volatile.Read(ref _current);
        set => Volatile.Write(ref _current, value);
    }

    readonly Dictionary<DeviceType, ICollective> _collectives = [];

    public Rendezvous Rendezvous { get; }
    public DistributedWorld World => Rendezvous.World;

    /// <summary>Set on a rank > 0 when rank 0 finished without another train stage for it.</summary>
    public bool Released { get; private set; }

    public DistributedJob(Rendezvous rendezvous) => Rendezvous = rendezvous;

    /// <summary>The collective for tensors on <paramref name="device"/>: NCCL on CUDA, TCP on CPU.</summary>
    public ICollective CollectiveFor(Device device)
    {
        lock (_collectives)
        {
            if (!_collectives.TryGetValue(device.type, out var collective))
            {
                collective = device.type switch
                {
                    DeviceType.CPU => new TcpCollective(Rendezvous),
                    DeviceType.CUDA => NcclCollective.Create(Rendezvous),
                    var other => throw new NotSupportedException($"no collective for {other} tensors"),
                };
                _collectives[device.type] = collective;
            }
            return collective;
        }
    }

    /// <summary>Rank 0: tells the other ranks that train stage <paramref name="stage"/> starts now.</summary>
    public void Announce(string stage)
    {
        if (World.Rank != 0) throw new InvalidOperationException("only rank 0 announces train stages");
        Rendezvous.Broadcast(Encoding.UTF8.GetBytes(stage));
    }

    /// <summary>
    /// Ranks > 0: waits until rank 0 starts train stage <paramref name="stage"/>. False when rank 0 left the job
    /// without it (it reused that stage, or had no more to train): this rank is then <see cref="Released"/>.
    /// </summary>
    /// <exception cref="RemoteRankFailedException">A rank failed meanwhile.</exception>
    /// <exception cref="DistributedSetupException">Rank 0 started a different train stage: the ranks run different specs.</exception>
    public bool AwaitAnnouncement(string stage)
    {
        if (World.Rank == 0) throw new InvalidOperationException("rank 0 announces, it does not wait");
        if (!Rendezvous.TryReceive(0, out var message))
        {
            Released = true;
            return false;
        }
        string announced = Encoding.UTF8.GetString(message);
        if (announced != stage)
            throw new DistributedSetupException(
                $"rank 0 started train stage '{announced}' while rank {World.Rank} is at '{stage}': every rank must run the same spec with the same stages");
        return true;
    }

    public void Dispose()
    {
        if (ReferenceEquals(Current, this)) Current = null;
        lock (_collectives)
        {
            foreach (var c in _collectives.Values) c.Dispose();
            _collectives.Clear();
        }
        Rendezvous.Dispose();
    }
}
