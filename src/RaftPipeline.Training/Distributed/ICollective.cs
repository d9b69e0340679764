using static TorchSharp.torch;

namespace RaftPipeline.Training.Distributed;

/// <summary>
/// The collective operations data-parallel training needs, over every rank of <see cref="World"/>. All ranks call the
/// same operations in the same order with tensors of the same shapes and dtypes; results are identical on every rank.
/// </summary>
public interface ICollective : IDisposable
{
    DistributedWorld World { get; }

    /// <summary>Replaces each tensor by its elementwise sum over all ranks, in place.</summary>
    void AllReduceSum(IReadOnlyList<Tensor> tensors);

    /// <summary>Overwrites <paramref name="tensor"/> on every rank with rank <paramref name="root"/>'s values.</summary>
    void Broadcast(Tensor tensor, int root = 0);

    /// <summary>Returns once every rank has reached it.</summary>
    void Barrier();

    /// <summary>Tells the other ranks this one is failing, with its message, so they stop instead of waiting.</summary>
    void ReportFailure(string message);
}
