namespace RaftPipeline.Modeling.Native;

/// <summary>What to do when CUDA was asked for and this process cannot use it, from what discovery found.</summary>
public static class CudaSetupAdvice
{
    /// <summary>The install instruction for a machine with no usable CUDA build of libtorch.</summary>
    public static string InstallCudaBuild =>
        $"install PyTorch {LibtorchDiscovery.RequiredVersion} with CUDA (`pip install \"torch=={LibtorchDiscovery.RequiredVersion}.*\"`, found by the tool " +
        $"in the active virtualenv/conda environment, the user's or the system's site-packages), or set {LibtorchDiscovery.Variable} to the " +
        $"lib folder of a CUDA build of libtorch {LibtorchDiscovery.RequiredVersion}";

    /// <summary>
    /// Why there is no CUDA device, and the fix: no CUDA build bound (what was found instead and what to install), or
    /// a CUDA build bound that sees no device (the driver).
    /// </summary>
    public static string WhyNoCuda(LibtorchBinding? binding, IReadOnlyList<LibtorchCandidate> candidates)
    {
        if (binding is not null)
            return $"the CUDA build of libtorch from {binding.Candidate.Directory} ({binding.Candidate.Source}) is loaded but sees no GPU: " +
                   "check the NVIDIA driver (`nvidia-smi` must list the GPU) and CUDA_VISIBLE_DEVICES";
        var unusable = candidates.Where(c => c.IsCuda && !c.Usable).Select(c => $"{c.Directory} ({c.Source}): {c.Problem}").ToList();
        var found = unusable.Count == 0 ? "no CUDA build of libtorch was found" : "the CUDA builds found cannot be used: " + string.Join("; ", unusable);
        return $"this tool runs on the CPU build of libtorch it ships, and {found}; {InstallCudaBuild}. `dotnet raft doctor` shows what was found";
    }
}
