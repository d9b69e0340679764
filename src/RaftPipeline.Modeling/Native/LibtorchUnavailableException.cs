namespace RaftPipeline.Modeling.Native;

/// <summary>
/// libtorch could not be loaded in this process (a library or symbol version missing, an unpatched or damaged file).
/// The message says what the loader said and what to run next; the CLI prints it as one error, never a stack trace.
/// </summary>
public sealed class LibtorchUnavailableException(string message, Exception inner) : InvalidOperationException(message, inner);
