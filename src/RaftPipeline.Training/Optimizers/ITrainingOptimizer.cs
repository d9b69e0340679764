using static TorchSharp.torch;

namespace RaftPipeline.Training.Optimizers;

/// <summary>
/// An optimizer over named trainable parameters whose whole state can be saved and restored bit for bit
/// (exact resume). The learning rate is given per step by the schedule, as LambdaLR sets it on torch's optimizer.
/// </summary>
public interface ITrainingOptimizer
{
    IReadOnlyList<(string Name, Tensor Parameter)> Parameters { get; }

    /// <summary>Optimizer steps taken so far (torch's per-parameter <c>state["step"]</c>; all equal here).</summary>
    long StepCount { get; }

    /// <summary>Applies one update with learning rate <paramref name="lr"/> using the parameters' current .grad.</summary>
    void Step(double lr);

    /// <summary>Every state tensor by a stable name (<c>{param}.exp_avg</c>, ...), for checkpoints.</summary>
    IReadOnlyDictionary<string, Tensor> StateTensors();

    /// <summary>Restores <see cref="StateTensors"/> and the step count saved by a checkpoint.</summary>
    void LoadState(IReadOnlyDictionary<string, Tensor> state, long stepCount);
}
