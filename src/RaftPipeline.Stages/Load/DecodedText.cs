namespace RaftPipeline.Stages.Load;

/// <summary>A data file's text and how it was decoded (reported in the load stage's metrics).</summary>
/// <param name="Encoding">The encoding actually used (never <see cref="TextEncodingKind.Auto"/>).</param>
/// <param name="How">How it was chosen, e.g. "declared", "byte order mark", "valid UTF-8".</param>
public sealed record DecodedText(string Text, TextEncodingKind Encoding, string How);

/// <summary>
/// Names the place in a file where the text before it ends: "row 3 (line 4)" for CSV, "line 4" for JSONL.
/// It receives only text that decoded cleanly, so a position can be named even for an error.
/// </summary>
public delegate string TextPositionDescriber(string textBefore);
