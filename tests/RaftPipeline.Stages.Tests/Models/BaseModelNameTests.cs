using RaftPipeline.Stages.Models;

namespace RaftPipeline.Stages.Tests.Models;

public sealed class BaseModelNameTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("raft-basename-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void A_hub_cache_snapshot_is_named_by_its_repository_id_before_its_config()
    {
        var snapshot = Path.Combine(root, "hub", "models--Qwen--Qwen3-0.6B", "snapshots", new string('e', 40));
        Directory.CreateDirectory(snapshot);
        File.WriteAllText(Path.Combine(snapshot, "config.json"), """{"_name_or_path": "/home/someone/checkpoint-500"}""");
        Assert.Equal("Qwen/Qwen3-0.6B", BaseModelName.Of(snapshot));

        var plain = Path.Combine(root, "Qwen3-0.6B");
        Directory.CreateDirectory(plain);
        File.WriteAllText(Path.Combine(plain, "config.json"), "{}");
        Assert.Equal("Qwen3-0.6B", BaseModelName.Of(plain));
    }
}
