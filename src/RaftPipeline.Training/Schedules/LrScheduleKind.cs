namespace RaftPipeline.Training.Schedules;

/// <summary>The learning-rate schedules of transformers' <c>get_scheduler</c> that the notebook's recipes use.</summary>
public enum LrScheduleKind
{
    /// <summary>Linear warmup, then half a cosine from the peak to 0 (transformers "cosine", num_cycles 0.5).</summary>
    Cosine,
    /// <summary>Linear warmup, then a straight line from the peak to 0 at the last step (transformers "linear").</summary>
    Linear,
    /// <summary>The peak learning rate from the first step; warmup is ignored (transformers "constant").</summary>
    Constant,
    /// <summary>Linear warmup, then the peak learning rate (transformers "constant_with_warmup").</summary>
    ConstantWithWarmup,
}
