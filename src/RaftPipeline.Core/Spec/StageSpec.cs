namespace RaftPipeline.Core.Spec;

/// <summary>
/// One named stage of a pipeline. <see cref="Parameters"/> is the stage kind's typed record (for example
/// <c>TrainParameters</c>), already validated.
/// </summary>
/// <param name="Inputs">Input slot name → the inputs bound to it (a slot may take several, e.g. load's files).</param>
public sealed record StageSpec(
    string Name,
    string Kind,
    IReadOnlyDictionary<string, IReadOnlyList<StageInput>> Inputs,
    StageParameters Parameters,
    SourceLocation Location);

/// <summary>What a stage consumes: another stage's artifact, or a file or folder outside the cache.</summary>
public abstract record StageInput
{
    /// <summary>The artifact of the stage named <paramref name="Stage"/>.</summary>
    public sealed record FromStage(string Stage) : StageInput;

    /// <summary>An external file or folder, hashed by content. <paramref name="Path"/> is absolute.</summary>
    public sealed record FromPath(string Path) : StageInput;

    /// <summary>
    /// A model on the Hugging Face Hub, resolved through the shared HF cache when keys are computed.
    /// <paramref name="LocalPath"/> is the path the text would have named (absent, or it would have won).
    /// </summary>
    public sealed record FromHub(RaftPipeline.Hub.HubModelId Id, string LocalPath) : StageInput;
}

/// <summary>
/// Base of every stage kind's typed parameter record. Records are the single source of truth for
/// validation, defaults, documentation and the JSON Schema.
/// </summary>
public abstract record StageParameters;
