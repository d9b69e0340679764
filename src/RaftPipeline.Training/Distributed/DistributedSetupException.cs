namespace RaftPipeline.Training.Distributed;

/// <summary>The launcher's variables do not describe a consistent job, or the rendezvous failed; the message says which and why.</summary>
public sealed class DistributedSetupException(string message, Exception? inner = null) : Exception(message, inner);
