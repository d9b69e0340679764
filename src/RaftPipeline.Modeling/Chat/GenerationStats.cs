namespace RaftPipeline.Modeling.Chat;

/// <summary>What the engine's queue has done so far: batches run, the largest one, sequences finished and cancelled,
/// tokens generated. Read by the server's tests (batching, cancellation) and by anyone watching load.</summary>
public sealed record GenerationStats(long Batches, int LargestBatch, long Sequences, long Cancelled, long GeneratedTokens);
