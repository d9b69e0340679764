using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Distributed;

/// <summary>
/// Collectives for CPU tensors over the <see cref="Rendezvous"/> (the role gloo plays in PyTorch), so multi-process
/// data parallelism runs, and is tested, without a GPU. Rank 0 gathers every rank's tensors, sums them in rank order
/// (((r0 + r1) + r2) + …, in the tensors' dtype) and sends the sum back, so every rank holds bitwise the same result
/// and repeated runs give the same bits. Made for small LoRA gradients, not for bandwidth.
/// </summary>
public sealed class TcpCollective(Rendezvous rendezvous, bool ownsRendezvous = false) : ICollective
{
    public DistributedWorld World => rendezvous.World;

    public void AllReduceSum(IReadOnlyList<Tensor> tensors)
    {
        foreach (var t in tensors)
            if (t.device_type != DeviceType.CPU)
                throw new ArgumentException($"the TCP collective reduces CPU tensors only; got one on {t.device} (use NCCL on CUDA)", nameof(tensors));
        if (World.WorldSize == 1 || tensors.Count == 0) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (World.Rank == 0)
        {
            for (int r = 1; r < World.WorldSize; r++)
            {
                var incoming = rendezvous.Receive(r);
                int offset = 0;
                foreach (var t in tensors)
                {
                    using var other = empty(t.shape, dtype: t.dtype);
                    int n = checked((int)(other.numel() * other.element_size()));
                    if (offset + n > incoming.Length)
                        throw new InvalidOperationException($"rank {r} sent {incoming.Length} bytes for the all-reduce, fewer than rank 0's tensors need: ranks disagree on the tensors");
                    incoming.AsSpan(offset, n).CopyTo(other.bytes);
                    offset += n;
                    t.add_(other);
                }
                if (offset != incoming.Length)
                    throw new InvalidOperationException($"rank {r} sent {incoming.Length} bytes for the all-reduce, rank 0 expected {offset}: ranks disagree on the tensors");
            }
            var result = Pack(tensors);
            for (int r = 1; r < World.WorldSize; r++) rendezvous.Send(r, result);
        }
        else
        {
            rendezvous.Send(0, Pack(tensors));
            Unpack(rendezvous.Receive(0), tensors);
        }
    }

    public void Broadcast(Tensor tensor, int root = 0)
    {
        if (root != 0) throw new ArgumentOutOfRangeException(nameof(root), root, "the TCP collective broadcasts from rank 0 only");
        if (World.WorldSize == 1) return;
        var bytes = rendezvous.Broadcast(World.Rank == 0 ? Pack([tensor]) : null);
        if (World.Rank != 0) Unpack(bytes, [tensor]);
    }

    public void Barrier() => rendezvous.Barrier();

    public void ReportFailure(string message) => rendezvous.ReportFailure(message);

    static byte[] Pack(IReadOnlyList<Tensor> tensors)
    {
        using var scope = NewDisposeScope();
        var contiguous = tensors.Select(t => t.contiguous()).ToList();
        var buffer = new byte[contiguous.Sum(t => checked((int)(t.numel() * t.element_size())))];
        int offset = 0;
        foreach (var t in contiguous)
        {
            var bytes = t.bytes;
            bytes.CopyTo(buffer.AsSpan(offset));
            offset += bytes.Length;
        }
        return buffer;
    }

    static void Unpack(byte[] buffer, IReadOnlyList<Tensor> tensors)
    {
        using var noGrad = no_grad();
        int offset = 0;
        foreach (var t in tensors)
        {
            int n = checked((int)(t.numel() * t.element_size()));
            if (offset + n > buffer.Length)
                throw new InvalidOperationException($"rank 0 sent {buffer.Length} bytes, fewer than this rank's tensors need: ranks disagree on the tensors");
            using var incoming = empty(t.shape, dtype: t.dtype);
            buffer.AsSpan(offset, n).CopyTo(incoming.bytes);
            t.copy_(incoming);
            offset += n;
        }
    }

    public void Dispose()
    {
        if (ownsRendezvous) rendezvous.Dispose();
    }
}
