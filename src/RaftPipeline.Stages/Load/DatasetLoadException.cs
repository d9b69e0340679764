namespace RaftPipeline.Stages.Load;

/// <summary>A data file the load stage cannot use; the message names the file, the place and what was expected.</summary>
public sealed class DatasetLoadException(string message, Exception? inner = null) : Exception(message, inner);
