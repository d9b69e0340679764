using YamlDotNet.RepresentationModel;

namespace RaftPipeline.Core.Spec.Internal;

/// <summary>
/// Collects spec errors and knows where every node was written: in the file (YamlDotNet's marks, 1-based) or in
/// a <c>--set</c> override (nodes the override created are registered here).
/// </summary>
sealed class Diagnostics(string displayPath)
{
    readonly List<SpecError> errors = [];
    readonly Dictionary<YamlNode, SourceLocation> overrideNodes = new(ReferenceEqualityComparer.Instance);

    public string DisplayPath { get; } = displayPath;

    public IReadOnlyList<SpecError> Errors => errors;

    public int Count => errors.Count;

    readonly Dictionary<string, int> overrideOrder = new(StringComparer.Ordinal);

    /// <summary>Errors in overrides are listed in the order the overrides were given.</summary>
    public void RegisterOverrideOrder(SourceLocation location) => overrideOrder.TryAdd(location.File, overrideOrder.Count);

    public void RegisterOverride(YamlNode node, SourceLocation location)
    {
        foreach (var n in node.AllNodes) overrideNodes[n] = location;
    }

    /// <summary>A node built by the loader (not parsed) is located where <paramref name="original"/> is.</summary>
    public void Alias(YamlNode synthetic, YamlNode original) => overrideNodes[synthetic] = Locate(original);

    public SourceLocation Locate(YamlNode node) =>
        overrideNodes.TryGetValue(node, out var location)
            ? location
            : new SourceLocation(DisplayPath, (int)node.Start.Line, (int)node.Start.Column);

    readonly HashSet<YamlNode> reported = new(ReferenceEqualityComparer.Instance);

    /// <summary>Records an error on <paramref name="node"/>; later checks of the same node stay silent (one cause, one message).</summary>
    public void Add(YamlNode node, string key, string message)
    {
        reported.Add(node);
        errors.Add(new(Locate(node), QuotedText.Cut(key, QuotedText.MaxChars * 2), QuotedText.Cut(message, QuotedText.MaxMessageChars)));
    }

    public bool IsReported(YamlNode node) => reported.Contains(node);

    public void Add(SourceLocation location, string key, string message) =>
        errors.Add(new(location, QuotedText.Cut(key, QuotedText.MaxChars * 2), QuotedText.Cut(message, QuotedText.MaxMessageChars)));

    /// <summary>File errors by position, then override errors in the order given (a stable sort).</summary>
    public IReadOnlyList<SpecError> Sorted() =>
        errors.Select((e, i) => (e, i))
            .OrderBy(p => p.e.Location.HasPosition ? 0 : 1)
            .ThenBy(p => p.e.Location.HasPosition ? p.e.Location.Line : 0)
            .ThenBy(p => p.e.Location.HasPosition ? p.e.Location.Column : overrideOrder.GetValueOrDefault(p.e.Location.File, int.MaxValue))
            .ThenBy(p => p.i)
            .Select(p => p.e)
            .ToList();
}
