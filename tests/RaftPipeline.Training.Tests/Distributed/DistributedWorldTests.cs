using RaftPipeline.Training.Distributed;

namespace RaftPipeline.Training.Tests.Distributed;

public class DistributedWorldTests
{
    static DistributedWorld Read(params (string Key, string Value)[] vars) =>
        DistributedWorld.FromEnvironment(vars.ToDictionary(v => v.Key, v => (string?)v.Value));

    static string Error(params (string, string)[] vars) =>
        Assert.Throws<DistributedSetupException>(() => Read(vars)).Message;

    [Fact]
    public void No_launcher_variables_mean_a_world_of_one()
    {
        var world = Read(("PATH", "/usr/bin"), ("MASTER_PORT", "1234"));
        Assert.Equal(1, world.WorldSize);
        Assert.Equal(0, world.Rank);
        Assert.False(world.IsDistributed);
    }

    [Fact]
    public void Reads_torchrun_variables()
    {
        var world = Read(("RANK", "5"), ("WORLD_SIZE", "8"), ("LOCAL_RANK", "1"), ("MASTER_ADDR", "node-0"), ("MASTER_PORT", "29400"));
        Assert.Equal(new DistributedWorld(5, 8, 1, "node-0", 29400, "torchrun-style environment"), world);
    }

    [Fact]
    public void Reads_slurm_variables_with_the_default_port()
    {
        var world = Read(("SLURM_PROCID", "3"), ("SLURM_NTASKS", "4"), ("SLURM_LOCALID", "3"), ("MASTER_ADDR", "10.0.0.7"));
        Assert.Equal(new DistributedWorld(3, 4, 3, "10.0.0.7", DistributedWorld.DefaultMasterPort, "Slurm environment"), world);
    }

    [Fact]
    public void Torchrun_variables_win_over_slurm_ones()
    {
        // torchrun started inside a Slurm allocation: its own numbering is the one that counts.
        var world = Read(("SLURM_PROCID", "0"), ("SLURM_NTASKS", "1"), ("RANK", "1"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", "1"), ("MASTER_ADDR", "127.0.0.1"));
        Assert.Equal((1, 2), (world.Rank, world.WorldSize));
    }

    [Fact]
    public void A_single_slurm_task_needs_no_master_address()
    {
        var world = Read(("SLURM_PROCID", "0"), ("SLURM_NTASKS", "1"));
        Assert.Equal((0, 1, "127.0.0.1"), (world.Rank, world.WorldSize, world.MasterAddress));
    }

    [Fact]
    public void Inconsistent_values_name_the_variable_and_what_was_expected()
    {
        Assert.Contains("RANK=4 is out of range: expected 0 to 3", Error(("RANK", "4"), ("WORLD_SIZE", "4"), ("MASTER_ADDR", "h")));
        Assert.Contains("WORLD_SIZE='two' is not a whole number", Error(("RANK", "0"), ("WORLD_SIZE", "two")));
        Assert.Contains("WORLD_SIZE=0 is out of range: expected an integer ≥ 1", Error(("RANK", "0"), ("WORLD_SIZE", "0")));
        Assert.Contains("RANK is set but WORLD_SIZE is not", Error(("RANK", "1")));
        Assert.Contains("WORLD_SIZE=2 is set but RANK is not", Error(("WORLD_SIZE", "2")));
        Assert.Contains("needs MASTER_ADDR", Error(("RANK", "1"), ("WORLD_SIZE", "2")));
        Assert.Contains("MASTER_PORT=70000 is out of range", Error(("RANK", "1"), ("WORLD_SIZE", "2"), ("MASTER_ADDR", "h"), ("MASTER_PORT", "70000")));
        Assert.Contains("SLURM_LOCALID=2 is larger than SLURM_PROCID=1", Error(("SLURM_PROCID", "1"), ("SLURM_NTASKS", "4"), ("SLURM_LOCALID", "2"), ("MASTER_ADDR", "h")));
        Assert.Contains("SLURM_PROCID=-1", Error(("SLURM_PROCID", "-1"), ("SLURM_NTASKS", "2")));
    }
}
