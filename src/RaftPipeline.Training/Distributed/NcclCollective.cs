using RaftPipeline.Modeling.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Distributed;

/// <summary>
/// Collectives on CUDA tensors through NCCL, the engine PyTorch's DistributedDataParallel uses. Rank 0 makes the
/// ncclUniqueId and the <see cref="Rendezvous"/> carries it to the others; each process then holds one communicator
/// for its one GPU (the current CUDA device: a worker sees only its GPU, see docs/distributed.md).
/// <para>Stream: every call is enqueued on the legacy default stream (stream handle 0). TorchSharp never sets a
/// current stream, so torch's current stream is that default stream too: the all-reduce runs after the backward
/// kernels that wrote the gradients and before the kernels that read the sums, with no host synchronisation.</para>
/// <para>When another rank fails, the communicator is aborted (ncclCommAbort), which makes pending NCCL kernels
/// return, so this rank can stop with that rank's error rather than wait forever.</para>
/// </summary>
public sealed class NcclCollective : ICollective
{
    static readonly IntPtr DefaultStream = IntPtr.Zero;

    readonly NcclLibrary _nccl;
    readonly Rendezvous _rendezvous;
    readonly bool _ownsRendezvous;
    IntPtr _comm;
    int _aborted;

    public DistributedWorld World => _rendezvous.World;
    public string LibraryPath => _nccl.Path;
    public int LibraryVersion => _nccl.Version;

    NcclCollective(NcclLibrary nccl, Rendezvous rendezvous, bool ownsRendezvous, IntPtr comm)
    {
        _nccl = nccl;
        _rendezvous = rendezvous;
        _ownsRendezvous = ownsRendezvous;
        _comm = comm;
        rendezvous.PeerFailed += _ => Abort();
    }

    /// <summary>Creates this rank's communicator; every rank of the job calls it together.</summary>
    public static NcclCollective Create(Rendezvous rendezvous, bool ownsRendezvous = false)
    {
        var nccl = NcclLibrary.Load();
        var world = rendezvous.World;
        var id = new NcclLibrary.UniqueId();
        byte[]? mine = null;
        if (world.Rank == 0)
        {
            nccl.Check(nccl.GetUniqueId(out id), "ncclGetUniqueId");
            mine = new byte[128];
            ((ReadOnlySpan<byte>)id).CopyTo(mine);
        }
        var shared = rendezvous.Broadcast(mine);
        if (shared.Length != 128)
            throw new DistributedSetupException($"rank {world.Rank} received an NCCL id of {shared.Length} bytes from rank 0, expected 128");
        shared.CopyTo((Span<byte>)id);
        nccl.Check(nccl.CommInitRank(out var comm, world.WorldSize, id, world.Rank),
            $"ncclCommInitRank (rank {world.Rank} of {world.WorldSize}, NCCL {nccl.Version}, {nccl.Path})");
        return new NcclCollective(nccl, rendezvous, ownsRendezvous, comm);
    }

    public void AllReduceSum(IReadOnlyList<Tensor> tensors)
    {
        _rendezvous.ThrowIfFailed();
        foreach (var t in tensors) CheckTensor(t);
        _nccl.Check(_nccl.GroupStart(), "ncclGroupStart");
        try
        {
            foreach (var t in tensors)
            {
                var p = TensorMemory.Address(t);
                _nccl.Check(_nccl.AllReduce(p, p, (nuint)t.numel(), DataType(t.dtype), NcclLibrary.Sum, _comm, DefaultStream), "ncclAllReduce");
            }
        }
        finally
        {
            _nccl.Check(_nccl.GroupEnd(), "ncclGroupEnd");
        }
        _rendezvous.ThrowIfFailed();
    }

    public void Broadcast(Tensor tensor, int root = 0)
    {
        _rendezvous.ThrowIfFailed();
        CheckTensor(tensor);
        var p = TensorMemory.Address(tensor);
        _nccl.Check(_nccl.Broadcast(p, p, (nuint)tensor.numel(), DataType(tensor.dtype), root, _comm, DefaultStream), "ncclBroadcast");
    }

    /// <summary>Waits for this GPU's queued work, then for every rank on the control channel.</summary>
    public void Barrier()
    {
        torch.cuda.synchronize();
        _rendezvous.Barrier();
    }

    public void ReportFailure(string message) => _rendezvous.ReportFailure(message);

    void CheckTensor(Tensor t)
    {
        if (t.device_type != DeviceType.CUDA)
            throw new ArgumentException($"NCCL reduces CUDA tensors; got one on {t.device} (the TCP collective serves CPU ranks)");
        if (!t.is_contiguous())
            throw new ArgumentException("NCCL needs contiguous tensors (flatten into a bucket first)");
    }

    static int DataType(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => NcclLibrary.Float32,
        ScalarType.Float64 => NcclLibrary.Float64,
        ScalarType.Int32 => NcclLibrary.Int32,
        ScalarType.Int64 => NcclLibrary.Int64,
        ScalarType.Byte => NcclLibrary.Uint8,
        var other => throw new NotSupportedException($"no NCCL reduction for {other} here: reduce a float32 bucket"),
    };

    void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) == 1) return;
        var comm = Interlocked.Exchange(ref _comm, IntPtr.Zero);
        if (comm != IntPtr.Zero) _nccl.CommAbort(comm);
    }

    public void Dispose()
    {
        var comm = Interlocked.Exchange(ref _comm, IntPtr.Zero);
        if (comm != IntPtr.Zero)
        {
            if (_rendezvous.Failure is null) _nccl.CommDestroy(comm);
            else _nccl.CommAbort(comm);
        }
        if (_ownsRendezvous) _rendezvous.Dispose();
    }
}
