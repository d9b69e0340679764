using System.Globalization;
using System.Text.Json.Nodes;

namespace RaftPipeline.Core.Store;

/// <summary>Who holds the cache lock, as written to <c>lock.owner.json</c> for the messages of those who wait.</summary>
public sealed record LockOwner(int ProcessId, string Host, DateTime SinceUtc, string Purpose)
{
    public override string ToString() =>
        $"pid {ProcessId} on {Host} ({Purpose}, since {SinceUtc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC)";

    public JsonObject ToJson() => new()
    {
        ["pid"] = ProcessId,
        ["host"] = Host,
        ["since_utc"] = SinceUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        ["purpose"] = Purpose,
    };

    public static LockOwner? TryRead(string path)
    {
        try
        {
            var o = JsonFiles.ReadObject(path);
            return new LockOwner(
                o["pid"]!.GetValue<int>(), o["host"]!.GetValue<string>(),
                DateTime.Parse(o["since_utc"]!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal),
                o["purpose"]!.GetValue<string>());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException
                                      or InvalidDataException or InvalidOperationException or NullReferenceException or FormatException)
        {
            // The owner note is informative only: missing (between lock and note) or half written means "unknown".
            return null;
        }
    }
}
