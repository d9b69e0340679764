using System.Text.Json.Nodes;

namespace RaftPipeline.Core.Engine;

/// <summary>What a stage reports back besides its files: metrics for the lock file and the run report.</summary>
public sealed record StageOutcome(JsonObject Metrics)
{
    public static StageOutcome Empty => new(new JsonObject());
}
