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
                PreferPassiveOpenMpWaiting();
                PatchNativeLibraries();
                _patched = true;
            }
            if (Initialized.Add(deviceType))
                torch.InitializeDeviceType(deviceType);
        }
    }

    /// <summary>The OpenMP wait policy libtorch's CPU kernels get unless the user set one.</summary>
    public const string OpenMpWaitPolicy = "PASSIVE";

    /// <summary>
    /// libtorch's CPU build runs its kernels on GNU OpenMP, whose idle threads spin (OMP_WAIT_POLICY=ACTIVE) between
    /// parallel regions. When the calling thread changes (async continuations) or other processes share the cores,
    /// the spinning teams starve the working one: measured on the 2-core CI-like machine, the quickstart end-to-end
    /// test took 16.5 min spinning and 1.6 min passive. libgomp reads the variable once, when libtorch loads, so it
    /// is set in the native environment (setenv; .NET's Environment.SetEnvironmentVariable does not reach it on
    /// Unix) before the first torch call. A value the user set is kept.
    /// </summary>
    static void PreferPassiveOpenMpWaiting()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return;
        setenv("OMP_WAIT_POLICY", OpenMpWaitPolicy, 0);
    }

    [DllImport("libc", CharSet = CharSet.Ansi, SetLastError = true)]
    static extern int setenv(string name, string value, int overwrite);

    [DllImport("libc", CharSet = CharSet.Ansi)]
    static extern IntPtr getenv(string name);

    /// <summary>The native process environment's value of <paramref name="name"/> (what libgomp sees), or null.</summary>
    public static string? NativeEnvironmentVariable(string name) =>
        RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && getenv(name) is var p && p != IntPtr.Zero ? Marshal.PtrToStringAnsi(p) : null;

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
