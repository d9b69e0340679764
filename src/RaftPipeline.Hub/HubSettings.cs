namespace RaftPipeline.Hub;

/// <summary>
/// Where the Hub and the cache are, read from the same environment variables huggingface_hub reads
/// (constants.py), so the tool and Python share one cache and one login.
/// </summary>
public sealed record HubSettings
{
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary><c>HF_ENDPOINT</c> without a trailing '/'.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>The hub cache folder: <c>HF_HUB_CACHE</c>, else <c>$HF_HOME/hub</c>.</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>The access token (<c>HF_TOKEN</c>, else the token file); null: anonymous.</summary>
    public string? Token { get; init; }

    /// <summary><c>HF_HUB_OFFLINE</c>: no request at all, the cache only.</summary>
    public bool Offline { get; init; }

    /// <summary><c>HF_HUB_DISABLE_SYMLINKS</c>: snapshot files are copies of the blobs instead of links.</summary>
    public bool DisableSymlinks { get; init; }

    /// <summary>Timeout of a metadata request (<c>HF_HUB_ETAG_TIMEOUT</c>).</summary>
    public TimeSpan MetadataTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest silence while downloading before the connection counts as lost (<c>HF_HUB_DOWNLOAD_TIMEOUT</c>).</summary>
    public TimeSpan DownloadTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Reads the settings as huggingface_hub does; <paramref name="getVariable"/> defaults to the process environment.</summary>
    public static HubSettings FromEnvironment(Func<string, string?>? getVariable = null)
    {
        var get = getVariable ?? Environment.GetEnvironmentVariable;
        string? Var(string name) => get(name) is { Length: > 0 } v ? v : null;
        var userHome = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var home = Expand(Var("HF_HOME") ?? Path.Combine(Var("XDG_CACHE_HOME") ?? Path.Combine(userHome, ".cache"), "huggingface"), get, userHome);
        var cache = Expand(Var("HF_HUB_CACHE") ?? Var("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(home, "hub"), get, userHome);
        var tokenPath = Expand(Var("HF_TOKEN_PATH") ?? Path.Combine(home, "token"), get, userHome);
        var token = Var("HF_TOKEN") ?? Var("HUGGING_FACE_HUB_TOKEN") ?? (File.Exists(tokenPath) ? File.ReadAllText(tokenPath) : null);
        token = token?.Replace("\r", "").Replace("\n", "").Trim();
        return new HubSettings
        {
            Endpoint = (Var("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/'),
            CacheDirectory = Path.GetFullPath(cache),
            Token = string.IsNullOrEmpty(token) ? null : token,
            Offline = IsTrue(Var("HF_HUB_OFFLINE") ?? Var("TRANSFORMERS_OFFLINE")),
            DisableSymlinks = IsTrue(Var("HF_HUB_DISABLE_SYMLINKS")),
            MetadataTimeout = Seconds(Var("HF_HUB_ETAG_TIMEOUT"), 10),
            DownloadTimeout = Seconds(Var("HF_HUB_DOWNLOAD_TIMEOUT"), 10),
        };
    }

    /// <summary>huggingface_hub's _is_true: 1, ON, YES, TRUE in any case.</summary>
    public static bool IsTrue(string? value) =>
        value is not null && value.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    static TimeSpan Seconds(string? value, double fallback) =>
        TimeSpan.FromSeconds(double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0 ? s : fallback);

    /// <summary>os.path.expanduser then os.path.expandvars: a leading '~' and $NAME / ${NAME} (unknown names stay).</summary>
    static string Expand(string path, Func<string, string?> get, string userHome)
    {
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal)) path = userHome + path[1..];
        return System.Text.RegularExpressions.Regex.Replace(path, @"\$(\w+|\{[^}]*\})", m =>
        {
            var name = m.Groups[1].Value.Trim('{', '}');
            return get(name) ?? m.Value;
        });
    }
}
