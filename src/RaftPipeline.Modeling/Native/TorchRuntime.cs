using System.Runtime.InteropServices;
using TorchSharp;

namespace RaftPipeline.Modeling.Native;

/// <summary>
/// The one place that prepares libtorch. Two steps, because TorchSharp loads its native library from the static
/// constructor of <c>torch</c>, i.e. on the first touch of any <c>torch.*</c> member (even <c>torch.CPU</c>), and a
/// failed load poisons that type for the rest of the process:
/// <list type="number">
/// <item><see cref="PrepareNativeLibraries"/>: everything that must happen before libtorch is loaded (the OpenMP wait
/// policy, huge pages for large CPU tensors, the libstdc++ fix-up of <see cref="ElfVersionPatcher"/>, binding a CUDA build found by
/// <see cref="LibtorchDiscovery"/>). It loads nothing and never throws. A module initializer in every assembly
/// that uses TorchSharp calls it (<c>TorchModuleInitializer.cs</c> beside each project), so it runs before any code
/// of those assemblies can touch <c>torch</c>, whatever the entry path.</item>
/// <item><see cref="EnsureInitialized"/>: loads libtorch for a device type, with a message that says what is wrong
/// when it cannot.</item>
/// </list>
/// </summary>
public static class TorchRuntime
{
    static readonly object Gate = new();
    static bool _prepared;
    static Exception? _prepareProblem;
    static readonly HashSet<DeviceType> Initialized = new();

    /// <summary>Version needs that TorchSharp-cpu 0.107 declares but never uses at run time.</summary>
    public static readonly IReadOnlySet<string> UnusedVersionNeeds = new HashSet<string> { "GLIBCXX_3.4.32" };

    /// <summary>True once <see cref="PrepareNativeLibraries"/> has run in this process.</summary>
    public static bool Prepared
    {
        get { lock (Gate) return _prepared; }
    }

    /// <summary>The CUDA build of libtorch this process bound to before loading TorchSharp, or null.</summary>
    public static LibtorchBinding? CudaBinding { get; private set; }

    /// <summary>
    /// What must precede the first load of libtorch; idempotent, thread-safe, loads nothing and never throws (a
    /// problem is kept and reported by <see cref="EnsureInitialized"/>, where the user can act on it).
    /// </summary>
    public static void PrepareNativeLibraries()
    {
        lock (Gate)
        {
            if (_prepared) return;
            _prepared = true;
            try
            {
                PreferPassiveOpenMpWaiting();
                PreferHugePagesForLargeCpuTensors();
                PatchNativeLibraries();
                CudaBinding = LibtorchDiscovery.BindCudaBuild(LibtorchDiscovery.FromEnvironment());
            }
            catch (Exception e)
            {
                _prepareProblem = e;
            }
        }
    }

    /// <summary>Makes libtorch usable on <paramref name="deviceType"/>; idempotent and thread-safe.</summary>
    public static void EnsureInitialized(DeviceType deviceType = DeviceType.CPU)
    {
        PrepareNativeLibraries();
        lock (Gate)
        {
            if (_prepareProblem is { } problem)
                throw new LibtorchUnavailableException(problem.Message, problem);
            if (Initialized.Contains(deviceType)) return;
            try
            {
                torch.InitializeDeviceType(deviceType);
            }
            catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException)
            {
                throw new LibtorchUnavailableException(LoadFailureMessage(), e);
            }
            Initialized.Add(deviceType);
        }
    }

    /// <summary>
    /// Why libtorch did not load, in terms the user can act on. TorchSharp's own message suggests adding package
    /// references, which never applies to this tool: the usual cause is the dynamic loader's (a library or a symbol
    /// version missing), so that is what is shown.
    /// </summary>
    static string LoadFailureMessage()
    {
        var library = CandidateLibraryPaths().FirstOrDefault(File.Exists);
        string loader;
        if (library is null)
            loader = $"libLibTorchSharp.so is not beside the tool ({AppContext.BaseDirectory}); reinstall the tool";
        else
        {
            try
            {
                NativeLibrary.Free(NativeLibrary.Load(library));
                loader = $"{library} loads on its own, so a library it needs failed later";
            }
            catch (DllNotFoundException e)
            {
                loader = e.Message.Trim();
            }
        }
        return $"libtorch could not be loaded: {loader}. " +
               "Run `dotnet raft doctor`: it shows the libtorch build the tool found, where from, and what to install.";
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

    /// <summary>The value of THP_MEM_ALLOC_ENABLE libtorch's CPU allocator gets unless the user set one.</summary>
    public const string HugePageAllocation = "1";

    /// <summary>
    /// libtorch's CPU allocator takes each tensor from malloc, and glibc serves a block above 32 MiB (the vocabulary-
    /// wide logits, their softmax and gradients) with a fresh mmap that it unmaps again on free, so the kernel
    /// zero-fills that memory one 4 KiB page fault at a time on every step. With THP_MEM_ALLOC_ENABLE=1 libtorch
    /// advises transparent huge pages for blocks of 2 MiB and more (MADV_HUGEPAGE; honoured when
    /// /sys/kernel/mm/transparent_hugepage/enabled is "madvise" or "always"), one fault per 2 MiB. Measured on the
    /// 2-core CI-like machine, 40 quickstart training steps on the CPU: 3.4 M page faults and 30 s without, 0.22 M and
    /// 9.4 s with (docs/training.md, "CPU memory"). c10 reads the variable once, at its first allocation, from the
    /// native environment; a value the user set is kept (THP_MEM_ALLOC_ENABLE=0 turns it off).
    /// </summary>
    static void PreferHugePagesForLargeCpuTensors()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return;
        setenv("THP_MEM_ALLOC_ENABLE", HugePageAllocation, 0);
    }

    /// <summary>The kernel's transparent huge page mode ("always", "madvise" or "never"), or null where it says none.</summary>
    public static string? TransparentHugePages()
    {
        const string path = "/sys/kernel/mm/transparent_hugepage/enabled";
        try { return File.Exists(path) ? SelectedMode(File.ReadAllText(path)) : null; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>The bracketed choice of a sysfs mode list such as "always [madvise] never", or null.</summary>
    public static string? SelectedMode(string modes)
    {
        int open = modes.IndexOf('['), close = modes.IndexOf(']');
        return open >= 0 && close > open + 1 ? modes[(open + 1)..close] : null;
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
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                throw new InvalidOperationException(
                    $"TorchSharp's native library at '{path}' needs a one-time patch to load with this system's " +
                    $"libstdc++ (its unused GLIBCXX_3.4.32 need marked weak), but the file could not be rewritten: {e.Message}. " +
                    "Run the tool once as the user who installed it (the patch is then kept), or install it where you can write.", e);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidOperationException(
                    $"TorchSharp's native library at '{path}' is damaged ({e.Message}); reinstall the tool (`dotnet tool update`).", e);
            }
        }
    }
}
