namespace RaftPipeline.Stages.Generate;

/// <summary>One line of samples.jsonl: the probe, its messages and the two answers (null when that model did not run).</summary>
public sealed record SampleRecord(string Probe, string? System, string User, string? Base, string? Tuned);
