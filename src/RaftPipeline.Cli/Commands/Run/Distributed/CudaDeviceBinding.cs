using System.Runtime.InteropServices;

namespace RaftPipeline.Cli.Commands.Run.Distributed;

/// <summary>
/// Makes a worker's "cuda" its own GPU. TorchSharp 0.107 has no torch.cuda.set_device, and stages allocate on the
/// current device, so each worker must see exactly one GPU: CUDA_VISIBLE_DEVICES narrowed to its local rank's entry
/// before CUDA starts (the CUDA runtime reads it once, at initialisation). <c>raft run --gpus</c> sets it for its
/// workers; under torchrun or srun with several GPUs visible per process, this narrows it in-process. .NET keeps its
/// own copy of the environment on Unix, so libc's setenv is what the CUDA runtime sees.
/// </summary>
public static class CudaDeviceBinding
{
    [DllImport("libc", SetLastError = true)]
    static extern int setenv(string name, string value, int overwrite);

    /// <summary>The CUDA_VISIBLE_DEVICES value local rank <paramref name="localRank"/> should have, or null to keep it.</summary>
    public static string? Narrowed(string? visible, int localRank)
    {
        if (string.IsNullOrWhiteSpace(visible)) return localRank.ToString();
        var list = visible.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length <= 1) return null; // already one GPU (srun --gpus-per-task=1, raft run --gpus), or none
        if (localRank >= list.Length)
            throw new Training.Distributed.DistributedSetupException(
                $"LOCAL_RANK={localRank} but CUDA_VISIBLE_DEVICES={visible} lists {list.Length} GPUs: expected one GPU per local rank");
        return list[localRank];
    }

    /// <summary>Applies <see cref="Narrowed"/> to this process; call before anything touches CUDA.</summary>
    public static string? Apply(int localRank)
    {
        var value = Narrowed(Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES"), localRank);
        if (value is null) return null;
        Environment.SetEnvironmentVariable("CUDA_VISIBLE_DEVICES", value);
        if (setenv("CUDA_VISIBLE_DEVICES", value, 1) != 0)
            throw new InvalidOperationException($"setenv(CUDA_VISIBLE_DEVICES={value}) failed (errno {Marshal.GetLastPInvokeError()})");
        return value;
    }
}
