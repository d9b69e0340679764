using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RaftPipeline.Training.Distributed;

/// <summary>
/// libnccl.so.2, loaded at run time, and the few entry points data parallelism needs (nccl.h, NCCL 2.x ABI).
/// Where it comes from, first found wins: RAFT_NCCL_LIBRARY (a file path); a libnccl already mapped into this process
/// (a CUDA libtorch links it); the nvidia/nccl/lib folder of the Python torch install whose libtorch is loaded (or
/// on LD_LIBRARY_PATH), which is where pip's torch keeps it; the same folder found by asking python3; the system's.
/// </summary>
public sealed class NcclLibrary
{
    public const string OverrideVariable = "RAFT_NCCL_LIBRARY";

    // ncclResult_t values (nccl.h).
    public const int Success = 0, InProgress = 7;
    // ncclDataType_t and ncclRedOp_t values used here.
    public const int Int8 = 0, Uint8 = 1, Int32 = 2, Int64 = 4, Float16 = 6, Float32 = 7, Float64 = 8, BFloat16 = 9;
    public const int Sum = 0;

    /// <summary>ncclUniqueId: NCCL_UNIQUE_ID_BYTES (128) opaque bytes, passed by value to ncclCommInitRank.</summary>
    [InlineArray(128)]
    public struct UniqueId { byte _element; }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate int GetVersionFn(out int version);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate int GetUniqueIdFn(out UniqueId id);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate int CommInitRankFn(out IntPtr comm, int nranks, UniqueId id, int rank);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate int AllReduceFn(IntPtr send, IntPtr recv, nuint count, int dataType, int op, IntPtr comm, IntPtr stream);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate int BroadcastFn(IntPtr send, IntPtr recv, nuint count, int dataType, int root, IntPtr comm, IntPtr stream);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate int GroupFn();
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate int CommFn(IntPtr comm);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate int CommAsyncErrorFn(IntPtr comm, out int asyncError);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate IntPtr ErrorStringFn(int result);

    public string Path { get; }
    public int Version { get; }
    public GetUniqueIdFn GetUniqueId { get; }
    public CommInitRankFn CommInitRank { get; }
    public AllReduceFn AllReduce { get; }
    public BroadcastFn Broadcast { get; }
    public GroupFn GroupStart { get; }
    public GroupFn GroupEnd { get; }
    public CommFn CommDestroy { get; }
    public CommFn CommAbort { get; }
    public CommAsyncErrorFn CommGetAsyncError { get; }
    readonly ErrorStringFn _errorString;

    NcclLibrary(string path, IntPtr handle)
    {
        Path = path;
        T Fn<T>(string name) where T : Delegate =>
            NativeLibrary.TryGetExport(handle, name, out var address)
                ? Marshal.GetDelegateForFunctionPointer<T>(address)
                : throw new DistributedSetupException($"{path} has no '{name}': not an NCCL 2 library");
        GetUniqueId = Fn<GetUniqueIdFn>("ncclGetUniqueId");
        CommInitRank = Fn<CommInitRankFn>("ncclCommInitRank");
        AllReduce = Fn<AllReduceFn>("ncclAllReduce");
        Broadcast = Fn<BroadcastFn>("ncclBroadcast");
        GroupStart = Fn<GroupFn>("ncclGroupStart");
        GroupEnd = Fn<GroupFn>("ncclGroupEnd");
        CommDestroy = Fn<CommFn>("ncclCommDestroy");
        CommAbort = Fn<CommFn>("ncclCommAbort");
        CommGetAsyncError = Fn<CommAsyncErrorFn>("ncclCommGetAsyncError");
        _errorString = Fn<ErrorStringFn>("ncclGetErrorString");
        Fn<GetVersionFn>("ncclGetVersion")(out int version);
        Version = version;
    }

    public string ErrorString(int result) => Marshal.PtrToStringUTF8(_errorString(result)) ?? $"error {result}";

    /// <summary>Throws with NCCL's own words when <paramref name="result"/> is not ncclSuccess.</summary>
    public void Check(int result, string call)
    {
        if (result != Success)
            throw new InvalidOperationException($"{call} failed: {ErrorString(result)} (ncclResult {result}); NCCL_DEBUG=INFO says more");
    }

    static NcclLibrary? _loaded;
    static readonly Lock Gate = new();

    /// <exception cref="DistributedSetupException">No candidate loads; the message lists what was tried.</exception>
    public static NcclLibrary Load()
    {
        lock (Gate)
        {
            if (_loaded is not null) return _loaded;
            var tried = new List<string>();
            foreach (var candidate in Candidates(Environment.GetEnvironmentVariable(OverrideVariable), File.ReadAllLines("/proc/self/maps"),
                         Environment.GetEnvironmentVariable("LD_LIBRARY_PATH"), PythonNcclFolder))
            {
                if (NativeLibrary.TryLoad(candidate, out var handle))
                    return _loaded = new NcclLibrary(candidate, handle);
                tried.Add(candidate);
            }
            throw new DistributedSetupException(
                "NCCL (libnccl.so.2) was not found; tried: " + string.Join(", ", tried) +
                $". Install PyTorch with CUDA (pip's torch brings nvidia-nccl-cu*), or set {OverrideVariable} to the library's path.");
        }
    }

    /// <summary>Where to look, in order (pure, for tests): the override, mapped libraries, LD_LIBRARY_PATH, python3, the system.</summary>
    public static IEnumerable<string> Candidates(string? overridePath, IEnumerable<string> mappedFiles, string? ldLibraryPath, Func<string?> pythonNcclFolder)
    {
        if (!string.IsNullOrWhiteSpace(overridePath))
        {
            if (!File.Exists(overridePath))
                throw new DistributedSetupException($"{OverrideVariable}={overridePath}: no such file; expected the path of libnccl.so.2");
            yield return overridePath;
            yield break; // an explicit choice is never second-guessed
        }
        var mapped = mappedFiles.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
            .Where(p => p.StartsWith('/')).Distinct().ToList();
        foreach (var p in mapped.Where(p => System.IO.Path.GetFileName(p).StartsWith("libnccl.so", StringComparison.Ordinal)))
            yield return p;
        // pip's torch: site-packages/torch/lib/libtorch*.so, NCCL in site-packages/nvidia/nccl/lib/.
        var torchLibDirs = mapped.Where(p => System.IO.Path.GetFileName(p).StartsWith("libtorch", StringComparison.Ordinal))
            .Select(p => System.IO.Path.GetDirectoryName(p)!)
            .Concat((ldLibraryPath ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            .Distinct();
        foreach (var dir in torchLibDirs)
        {
            foreach (var path in new[] { System.IO.Path.Combine(dir, "..", "..", "nvidia", "nccl", "lib", "libnccl.so.2"), System.IO.Path.Combine(dir, "libnccl.so.2") })
                if (File.Exists(path)) yield return System.IO.Path.GetFullPath(path);
        }
        if (pythonNcclFolder() is { } folder && File.Exists(System.IO.Path.Combine(folder, "libnccl.so.2")))
            yield return System.IO.Path.Combine(folder, "libnccl.so.2");
        yield return "libnccl.so.2";
        yield return "libnccl.so";
    }

    /// <summary>nvidia/nccl/lib of the python3 on PATH, if it has one (pip's nvidia-nccl-cu* wheel).</summary>
    static string? PythonNcclFolder()
    {
        try
        {
            using var python = Process.Start(new ProcessStartInfo("python3", ["-c",
                "import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], 'lib'))"])
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (python is null) return null;
            string output = python.StandardOutput.ReadToEnd().Trim();
            return python.WaitForExit(TimeSpan.FromSeconds(20)) && python.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; } // no python3 here
    }
}
