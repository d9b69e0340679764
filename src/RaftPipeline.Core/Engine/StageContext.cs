using RaftPipeline.Core.Spec;

namespace RaftPipeline.Core.Engine;

/// <summary>Everything a stage may touch while it runs, and nothing else.</summary>
public sealed class StageContext
{
    public required StageSpec Stage { get; init; }

    /// <summary>Slot name → resolved paths: upstream artifact folders or external files/folders.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<string>> Inputs { get; init; }

    /// <summary>An empty staging folder; what the stage writes here becomes its artifact once published.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>This run's folder for the stage's human-facing reports (plots, tables, samples).</summary>
    public required string ReportDirectory { get; init; }

    /// <summary>The pipeline seed; stages derive their own seeds from it deterministically.</summary>
    public required long Seed { get; init; }

    /// <summary>The device resolved for this run (never <c>auto</c> here).</summary>
    public required DeviceKind Device { get; init; }

    public required IStageProgress Progress { get; init; }

    /// <summary>
    /// This stage key's folder for resumable state (<see cref="Store.CheckpointAreas"/>): unlike
    /// <see cref="OutputDirectory"/> it survives a failed, cancelled or killed attempt, and is removed once the artifact
    /// is published. Not created in advance; null where the engine offers none (nothing to resume from).
    /// </summary>
    public string? CheckpointDirectory { get; init; }

    public T Parameters<T>() where T : StageParameters =>
        Stage.Parameters as T ?? throw new InvalidOperationException(
            $"stage '{Stage.Name}' has parameters of type {Stage.Parameters.GetType().Name}, not {typeof(T).Name}");

    /// <summary>The single path bound to <paramref name="slot"/>; throws when the slot is empty or holds several.</summary>
    public string Input(string slot) =>
        Inputs.TryGetValue(slot, out var paths) && paths.Count == 1
            ? paths[0]
            : throw new InvalidOperationException($"stage '{Stage.Name}' expects exactly one input in slot '{slot}'");
}
