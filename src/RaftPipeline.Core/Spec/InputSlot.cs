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
    /// <summary>"a path", "a stage of kind lora|quantize", "a path or a stage of kind merge".</summary>
    public string Expectation =>
        (AcceptsPath, AcceptedKinds.Count) switch
        {
            (true, 0) => "a path",
            (false, _) => $"a stage of kind {string.Join('|', AcceptedKinds)}",
            (true, _) => $"a path or a stage of kind {string.Join('|', AcceptedKinds)}",
        };
}
