namespace RaftPipeline.Stages.Data;

/// <summary>A dataset file that is not what it claims to be; the message names the file and the place.</summary>
public sealed class DatasetFormatException(string message, Exception? inner = null) : Exception(message, inner);
