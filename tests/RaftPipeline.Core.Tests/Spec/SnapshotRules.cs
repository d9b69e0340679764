using Snapshooter.Xunit;

namespace RaftPipeline.Core.Tests.Spec;

/// <summary>
/// Snapshooter 1.3.1 writes a missing snapshot and passes, even on CI; only SNAPSHOOTER_STRICT_MODE=on|true
/// makes a missing snapshot fail. Under CI we turn strict mode on, so a snapshot that was never committed
/// fails the build instead of being silently accepted.
/// </summary>
static class SnapshotRules
{
    public static void Match(string text)
    {
        StrictOnCi();
        text.MatchSnapshot();
    }

    public static void Match(object value)
    {
        StrictOnCi();
        value.MatchSnapshot();
    }

    static void StrictOnCi()
    {
        if (Environment.GetEnvironmentVariable("CI") is { Length: > 0 } ci && ci != "0" && !ci.Equals("false", StringComparison.OrdinalIgnoreCase))
            Environment.SetEnvironmentVariable("SNAPSHOOTER_STRICT_MODE", "on");
    }
}
