using System.Runtime.InteropServices;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Native.Cuda;
using RaftPipeline.Training.Distributed;
using TorchSharp;

namespace RaftPipeline.Cli.Commands.Doctor;

/// <summary>
/// The behaviour of <c>raft doctor</c>: what this process runs on, section by section (.NET, libtorch, the CUDA builds
/// discovery found, the GPUs, NCCL), then what to do about anything missing. Exit 0 when libtorch loads (CPU at least),
/// 1 when it does not.
/// </summary>
public static class DoctorCommand
{
    public static int Run(TextWriter output, DiscoveryEnvironment environment)
    {
        var todo = new List<string>();
        output.WriteLine($"raft {RaftCli.Version} at {AppContext.BaseDirectory}");
        output.WriteLine($".NET: {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier}) at {RuntimeEnvironment()}");

        // libtorch: load it as a run would (the fix-up and any CUDA binding have already run in this process).
        bool loaded;
        try
        {
            TorchRuntime.EnsureInitialized();
            loaded = true;
        }
        catch (InvalidOperationException e)
        {
            output.WriteLine($"libtorch: does not load: {e.Message}");
            todo.Add("reinstall the tool (`dotnet tool update`), or run it once as the user who installed it, so that its native library can be fixed up");
            loaded = false;
        }
        var mapped = MappedLibraries();
        string? cudaLibrary = mapped.FirstOrDefault(p => Path.GetFileName(p).StartsWith("libtorch_cuda.so", StringComparison.Ordinal));
        if (loaded)
        {
            var cpuLibrary = mapped.FirstOrDefault(p => Path.GetFileName(p).StartsWith("libtorch_cpu.so", StringComparison.Ordinal));
            // TorchSharp's __version__ is the libtorch it was built against; a bound CUDA build says its own version.
            string version = TorchRuntime.CudaBinding?.Candidate.Version ?? torch.__version__;
            output.WriteLine($"libtorch: {version}, {(cudaLibrary is null ? "CPU build" : "CUDA build")}, loaded from {Path.GetDirectoryName(cpuLibrary) ?? "(unknown)"}");
            if (TorchRuntime.CudaBinding is { } binding)
                output.WriteLine($"  bound to the CUDA build found in {binding.Candidate.Source}{(binding.Preloaded ? "" : " (by the dynamic loader)")}");
            output.WriteLine($"  TorchSharp {typeof(torch).Assembly.GetName().Version} at {Path.GetDirectoryName(typeof(torch).Assembly.Location)}");
            foreach (var library in TorchRuntime.CandidateLibraryPaths().Distinct().Where(File.Exists))
            {
                bool weak = ElfVersionPatcher.ReadNeeds(File.ReadAllBytes(library)).Where(n => TorchRuntime.UnusedVersionNeeds.Contains(n.Name)).All(n => n.IsWeak);
                output.WriteLine($"  native fix-up: {library}: {(weak ? "done" : "NOT done")} ({string.Join(", ", TorchRuntime.UnusedVersionNeeds)} need marked weak)");
            }
            // Large CPU tensors on huge pages make CPU training ~3x faster (docs/training.md, "CPU memory"); say whether they can be.
            var thp = TorchRuntime.TransparentHugePages();
            output.WriteLine($"  large CPU tensors: THP_MEM_ALLOC_ENABLE={TorchRuntime.NativeEnvironmentVariable("THP_MEM_ALLOC_ENABLE") ?? "unset"}, " +
                $"transparent huge pages {thp ?? "not reported by this kernel"}" +
                (thp == "never" ? " (CPU training runs slower; `madvise` lets libtorch use them)" : ""));
        }

        var candidates = LibtorchDiscovery.Find(environment);
        output.WriteLine(candidates.Count == 0 ? "libtorch builds found: none besides the packaged CPU build" : "libtorch builds found:");
        var chosen = LibtorchDiscovery.Choose(candidates);
        foreach (var c in candidates)
        {
            var state = c == chosen ? "chosen" : c.Problem is { } problem ? $"not usable: {problem}" : c.IsCuda ? "usable" : "CPU build, not needed";
            output.WriteLine($"  {c.Directory}: {(c.IsCuda ? "CUDA" : "CPU")}{(c.Version is null ? "" : $" {c.Version}")}, from {c.Source}; {state}");
        }

        var driver = CudaDriverInfo.Query();
        if (driver.DriverVersion is not null) output.WriteLine($"NVIDIA driver: CUDA {driver.DriverVersion}");
        foreach (var d in driver.Devices)
            output.WriteLine($"  GPU {d.Ordinal}: {d.Name}, {d.TotalMemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, compute capability {d.ComputeCapabilityMajor}.{d.ComputeCapabilityMinor}");
        if (driver.Problem is not null) output.WriteLine($"GPUs: {driver.Problem}");
        bool cudaUsable = loaded && cudaLibrary is not null && torch.cuda.is_available();
        output.WriteLine($"CUDA in libtorch: {(cudaUsable ? $"available, {torch.cuda.device_count()} device(s)" : "not available")}");
        if (!cudaUsable && driver.Devices.Count > 0)
            todo.Add(CudaSetupAdvice.WhyNoCuda(cudaLibrary is null ? null : TorchRuntime.CudaBinding, candidates));
        else if (!cudaUsable)
            todo.Add("to train on a GPU: a machine with an NVIDIA GPU and its driver, then " + CudaSetupAdvice.InstallCudaBuild);

        try
        {
            var nccl = NcclLibrary.Load();
            output.WriteLine($"NCCL: {nccl.Version} at {nccl.Path}");
        }
        catch (DistributedSetupException e)
        {
            output.WriteLine($"NCCL: not found (needed only for `raft run --gpus N` on CUDA): {e.Message}");
        }

        output.WriteLine(todo.Count == 0 ? "Nothing to do: ready." : "What to do:");
        foreach (var t in todo) output.WriteLine($"  - {t}");
        return loaded ? RaftCli.ExitCodes.Ok : RaftCli.ExitCodes.Failed;
    }

    static string RuntimeEnvironment() => Path.GetDirectoryName(typeof(object).Assembly.Location) ?? "(unknown)";

    /// <summary>The shared libraries mapped into this process (Linux), by path.</summary>
    static IReadOnlyList<string> MappedLibraries()
    {
        if (!File.Exists("/proc/self/maps")) return [];
        return File.ReadLines("/proc/self/maps")
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
            .Where(p => p.StartsWith('/'))
            .Distinct()
            .ToList();
    }
}
