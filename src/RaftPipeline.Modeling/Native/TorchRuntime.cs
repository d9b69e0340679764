using System.Runtime.InteropServices;
using TorchSharp;

namespace RaftPipeline.Modeling.Native;

/// <summary>
/// The one place that prepares libtorch before any tensor is touched. Call <see cref="EnsureInitialized"/>
/// first: on Linux it makes TorchSharp's native library loadable on systems whose libstdc++ predates
/// GCC 13 (see <see cref="ElfVersionPatcher"/>), then it initialises the requested device type.
/// </summary>
public static class TorchRuntime
{
    static readonly object Gate = new();
    static bool _patched;
    static readonly HashSet<DeviceType> Initialized = new();

    /// <summary>Version needs that TorchSharp-cpu 0.107 declares but never uses at run time.</summary>
    public static readonly IReadOnlySet<string> UnusedVersionNeeds = new HashSet<string> { "GLIBCXX_3.4.32" };

    /// <summary>Makes libtorch usable on <paramref name="deviceType"/>; idempotent and thread-safe.</summary>
    public static void EnsureInitialized(DeviceType deviceType = DeviceType.CPU)
    {
        lock (Gate)
        {
            if (!_patched)
            {
                PatchNativeLibraries();
                _patched = true;
            }
            if (Initialized.Add(deviceType))
                torch.InitializeDeviceType(deviceType);
        }
    }

    /// <summary>Where TorchSharp will look for libLibTorchSharp.so next to this application.</summary>
    public static IEnumerable<string> CandidateLibraryPaths()
    {
        var baseDir = AppContext.BaseDirectory;
        yield return Path.Combine(baseDir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        yield return Path.Combine(baseDir, "libLibTorchSharp.so");
        var torchSharpDir = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        if (!string.IsNullOrEmpty(torchSharpDir) && torchSharpDir != baseDir.TrimEnd('/'))
        {
            yield return Path.Combine(torchSharpDir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
            yield return Path.Combine(torchSharpDir, "libLibTorchSharp.so");
        }
    }

    static void PatchNativeLibraries()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return;
        foreach (var path in CandidateLibraryPaths().Distinct())
        {
            if (!File.Exists(path)) continue;
            try
            {
                ElfVersionPatcher.MarkWeakInFile(path, UnusedVersionNeeds);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new InvalidOperationException(
                    $"TorchSharp's native library at '{path}' needs a one-time patch to load with this system's " +
                    $"libstdc++ (GLIBCXX_3.4.32 marked weak), but the file is not writable: {e.Message}. " +
                    "Run the tool once as a user who can write its install folder.", e);
            }
        }
    }
}
