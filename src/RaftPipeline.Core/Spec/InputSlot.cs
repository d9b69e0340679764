namespace RaftPipeline.Core.Spec;

/// <summary>
/// One named input of a stage kind: whether it must be given, whether it takes several values, and what a
/// value may be (the artifact of a stage of certain kinds, an external path, or either).
/// </summary>
public sealed record InputSlot(
    string Name,
    bool Required,
    bool Many,
    bool AcceptsPath,
    IReadOnlyList<string> AcceptedKinds,
    string Description)
{
    /// <summary>
    /// The slot takes a model or adapter folder, so a Hugging Face model id (<c>org/name</c>, <c>org/name@rev</c>) is
    /// accepted where no local path of that name exists.
    /// </summary>
    public bool AcceptsModelId { get; init; }

    /// <summary>"a path", "a stage of kind lora|quantize", "a path, a Hugging Face model id or a stage of kind merge".</summary>
    public string Expectation =>
        (AcceptsPath, AcceptedKinds.Count) switch
        {
            (true, 0) => AcceptsModelId ? "a path or a Hugging Face model id" : "a path",
            (false, _) => $"a stage of kind {string.Join('|', AcceptedKinds)}",
            (true, _) => $"{(AcceptsModelId ? "a path, a Hugging Face model id" : "a path")} or a stage of kind {string.Join('|', AcceptedKinds)}",
        };
}
