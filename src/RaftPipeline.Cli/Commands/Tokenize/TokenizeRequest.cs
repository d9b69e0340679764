namespace RaftPipeline.Cli.Commands.Tokenize;

/// <summary>What `raft tokenize` was asked: exactly one of <paramref name="Text"/>, <paramref name="Decode"/>,
/// <paramref name="File"/>; <paramref name="Model"/> null means the embedded Qwen3 tokenizer.</summary>
public sealed record TokenizeRequest(
    string? Model,
    string? Text,
    string? Decode,
    string? File,
    bool AddSpecialTokens = true,
    bool SkipSpecialTokens = false);
