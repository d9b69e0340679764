namespace RaftPipeline.Hub;

/// <summary>Why a model could not be had from the Hub or the cache. The kinds mirror huggingface_hub's errors.</summary>
public enum HubErrorKind
{
    RepoNotFound,
    RevisionNotFound,
    EntryNotFound,
    GatedRepo,
    /// <summary>The token was refused (401 "Invalid credentials").</summary>
    Unauthorized,
    /// <summary>Offline (HF_HUB_OFFLINE) or unreachable, and the cache lacks what was asked for.</summary>
    NotCached,
    /// <summary>The server could not be reached or answered something unusable.</summary>
    Network,
    /// <summary>A downloaded file's size or hash is not what the Hub announced.</summary>
    Integrity,
    /// <summary>The repository holds no weights this tool can read (safetensors).</summary>
    Unsupported,
}

/// <summary>
/// A Hub or cache failure, with a message meant for the user (it names the repository, the revision or file,
/// and what to do). An <see cref="IOException"/>, so callers that report unreadable inputs report these too.
/// </summary>
public sealed class HubException(HubErrorKind kind, string message, int? statusCode = null, Exception? inner = null)
    : IOException(message, inner)
{
    public HubErrorKind Kind { get; } = kind;
    public int? StatusCode { get; } = statusCode;
}
