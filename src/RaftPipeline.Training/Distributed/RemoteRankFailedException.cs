namespace RaftPipeline.Training.Distributed;

/// <summary>
/// Another rank of the job failed (or vanished): this rank stops with that rank's own error message rather than
/// waiting forever for a collective the failed rank will never join.
/// </summary>
public sealed class RemoteRankFailedException(int failedRank, string remoteMessage)
    : Exception($"rank {failedRank} failed: {remoteMessage}")
{
    public int FailedRank { get; } = failedRank;
    public string RemoteMessage { get; } = remoteMessage;
}
