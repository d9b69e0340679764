using RaftPipeline.Core.Spec;
using RaftPipeline.Modeling.Native;
using TorchSharp;

namespace RaftPipeline.Cli.Commands.Run;

/// <summary>
/// Turns the spec's device into the one stages get. <c>auto</c> becomes CUDA when a CUDA device is present,
/// else CPU, and the run says which; an explicit <c>cuda</c> without CUDA is an error, never a silent CPU run.
/// <c>cpu</c> needs no check, so a CPU run that reuses everything never loads libtorch.
/// </summary>
public static class DeviceSelection
{
    public sealed record Choice(DeviceKind Device, string? Note, string? Error);

    public static Choice Resolve(DeviceKind requested, Func<bool> cudaAvailable) => requested switch
    {
        DeviceKind.Cpu => new Choice(DeviceKind.Cpu, null, null),
        DeviceKind.Cuda => cudaAvailable()
            ? new Choice(DeviceKind.Cuda, null, null)
            : new Choice(DeviceKind.Cuda, null, $"device 'cuda' was asked for, but no CUDA device is available: {WhyNoCuda()}; or use --device cpu or auto"),
        _ => cudaAvailable()
            ? new Choice(DeviceKind.Cuda, "device auto: using cuda", null)
            : new Choice(DeviceKind.Cpu, "device auto: no CUDA device found, using cpu", null),
    };

    /// <summary>Why this process has no CUDA device and what to install (discovery is only read here, never loaded).</summary>
    static string WhyNoCuda() =>
        CudaSetupAdvice.WhyNoCuda(TorchRuntime.CudaBinding, LibtorchDiscovery.Find(LibtorchDiscovery.FromEnvironment()));

    /// <summary>Asks libtorch (loading it) whether a CUDA device can be used.</summary>
    public static bool CudaAvailable()
    {
        try
        {
            TorchRuntime.EnsureInitialized();
        }
        catch (LibtorchUnavailableException)
        {
            return false; // no libtorch at all: WhyNoCuda says what was found and what to install
        }
        return torch.cuda.is_available();
    }
}
