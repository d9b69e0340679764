using System.Globalization;

namespace RaftPipeline.Training.Distributed;

/// <summary>
/// Where this process stands in a data-parallel job: its <see cref="Rank"/> among <see cref="WorldSize"/> processes,
/// its <see cref="LocalRank"/> on this machine (the GPU it drives), and the rendezvous address of rank 0
/// (<see cref="MasterAddress"/>:<see cref="MasterPort"/>). Read from the variables launchers set: torchrun's
/// RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT, or Slurm's SLURM_PROCID / SLURM_NTASKS /
/// SLURM_LOCALID (torchrun's names win when both are present, as a torchrun inside an allocation sets its own).
/// None set: a world of one.
/// </summary>
public sealed record DistributedWorld(int Rank, int WorldSize, int LocalRank, string MasterAddress, int MasterPort, string Source)
{
    /// <summary>The rendezvous port when a Slurm job names none (torchrun's own default).</summary>
    public const int DefaultMasterPort = 29500;

    public static readonly DistributedWorld Single = new(0, 1, 0, "127.0.0.1", DefaultMasterPort, "single process");

    public bool IsDistributed => WorldSize > 1;
    public bool IsRankZero => Rank == 0;
    /// <summary>A launcher (torchrun, srun, <c>raft run --gpus</c>) started this process, even as a world of one.</summary>
    public bool IsLaunched => Source != Single.Source;

    public static DistributedWorld FromEnvironment() =>
        FromEnvironment(Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal));

    /// <exception cref="DistributedSetupException">A variable is malformed, out of range, or missing beside the others.</exception>
    public static DistributedWorld FromEnvironment(IReadOnlyDictionary<string, string?> env)
    {
        string? Get(string name) => env.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

        if (Get("WORLD_SIZE") is not null || Get("RANK") is not null)
            return Resolve(env, Get, "RANK", "WORLD_SIZE", "LOCAL_RANK", "torchrun-style environment");
        if (Get("SLURM_NTASKS") is not null || Get("SLURM_PROCID") is not null)
            return Resolve(env, Get, "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "Slurm environment");
        return Single;
    }

    static DistributedWorld Resolve(IReadOnlyDictionary<string, string?> env, Func<string, string?> get,
        string rankVar, string worldVar, string localVar, string source)
    {
        int world = Integer(get, worldVar, min: 1) ?? throw new DistributedSetupException(
            $"{rankVar} is set but {worldVar} is not: expected the number of processes in the job (an integer ≥ 1)");
        int rank = Integer(get, rankVar, min: 0) ?? throw new DistributedSetupException(
            $"{worldVar}={world} is set but {rankVar} is not: expected this process's rank, 0 to {world - 1}");
        if (rank >= world)
            throw new DistributedSetupException($"{rankVar}={rank} is out of range: expected 0 to {world - 1} ({worldVar}={world})");
        // A launcher that starts one process per node gives no local rank: the process then drives GPU 0.
        int local = Integer(get, localVar, min: 0) ?? (world == 1 ? 0 : rank);
        if (local > rank)
            throw new DistributedSetupException($"{localVar}={local} is larger than {rankVar}={rank}: a local rank counts processes on one machine, so it is at most the global rank");
        string address = get("MASTER_ADDR") ?? (world == 1 ? "127.0.0.1" : null)
            ?? throw new DistributedSetupException(
                $"{worldVar}={world} needs MASTER_ADDR: expected the host name or IP address of rank 0's machine " +
                "(under Slurm: export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1))");
        int port = Integer(get, "MASTER_PORT", min: 1) ?? DefaultMasterPort;
        if (port > 65535)
            throw new DistributedSetupException($"MASTER_PORT={port} is out of range: expected a TCP port, 1 to 65535");
        return new DistributedWorld(rank, world, local, address, port, source);
    }

    static int? Integer(Func<string, string?> get, string name, int min)
    {
        string? text = get(name);
        if (text is null) return null;
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
            throw new DistributedSetupException($"{name}='{text}' is not a whole number: expected an integer ≥ {min}");
        if (value < min)
            throw new DistributedSetupException($"{name}={value} is out of range: expected an integer ≥ {min}");
        return value;
    }

    public override string ToString() =>
        WorldSize == 1 ? "world size 1" : $"rank {Rank}/{WorldSize} (local rank {LocalRank}), rendezvous {MasterAddress}:{MasterPort}, from the {Source}";
}
