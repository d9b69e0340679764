using System.Reflection;
using System.Runtime.InteropServices;

namespace RaftPipeline.Modeling.Native.Cuda;

/// <summary>
/// NVRTC, CUDA's run-time compiler (libnvrtc.so, shipped with the CUDA toolkit and with PyTorch's CUDA wheels). The
/// library name carries the CUDA major version, so it is resolved at run time: RAFT_NVRTC_LIBRARY if set, else the
/// versioned names CUDA 13 and 12 install, else the unversioned one.
/// </summary>
static class NvrtcApi
{
    const string Lib = "raft-nvrtc";

    static NvrtcApi() => NativeLibrary.SetDllImportResolver(typeof(NvrtcApi).Assembly, Resolve);

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Lib) return IntPtr.Zero;
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("RAFT_NVRTC_LIBRARY") is { Length: > 0 } explicitPath) candidates.Add(explicitPath);
        candidates.AddRange(["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so",
            "/usr/local/cuda/lib64/libnvrtc.so", "/usr/local/cuda/targets/x86_64-linux/lib/libnvrtc.so"]);
        foreach (var candidate in candidates)
            if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
        throw new DllNotFoundException(
            $"NVRTC (CUDA's run-time compiler) was not found; tried {string.Join(", ", candidates)}. Install the CUDA toolkit's " +
            "libnvrtc, point RAFT_NVRTC_LIBRARY at it, or set RAFT_FUSED_KERNELS=0 to run the unfused ops.");
    }

    [DllImport(Lib)] static extern int nvrtcCreateProgram(out IntPtr program, string source, string name, int numHeaders, IntPtr headers, IntPtr includeNames);
    [DllImport(Lib)] static extern int nvrtcCompileProgram(IntPtr program, int numOptions, string[] options);
    [DllImport(Lib)] static extern int nvrtcGetProgramLogSize(IntPtr program, out nuint size);
    [DllImport(Lib)] static extern int nvrtcGetProgramLog(IntPtr program, byte[] log);
    [DllImport(Lib)] static extern int nvrtcGetCUBINSize(IntPtr program, out nuint size);
    [DllImport(Lib)] static extern int nvrtcGetCUBIN(IntPtr program, byte[] cubin);
    [DllImport(Lib)] static extern int nvrtcDestroyProgram(ref IntPtr program);

    /// <summary>Compiles <paramref name="source"/> to a cubin for sm_<paramref name="arch"/>; a failure carries the compiler's log.</summary>
    public static byte[] CompileToCubin(string source, string name, int arch)
    {
        Check(nvrtcCreateProgram(out var program, source, name, 0, IntPtr.Zero, IntPtr.Zero), "nvrtcCreateProgram", name);
        try
        {
            string[] options = [$"--gpu-architecture=sm_{arch}", "--std=c++17", "-default-device", "--fmad=false"];
            int compiled = nvrtcCompileProgram(program, options.Length, options);
            if (compiled != 0)
                throw new InvalidOperationException($"NVRTC could not compile {name} for sm_{arch} (error {compiled}):\n{Log(program)}");
            Check(nvrtcGetCUBINSize(program, out var size), "nvrtcGetCUBINSize", name);
            var cubin = new byte[(int)size];
            Check(nvrtcGetCUBIN(program, cubin), "nvrtcGetCUBIN", name);
            return cubin;
        }
        finally { nvrtcDestroyProgram(ref program); }
    }

    static string Log(IntPtr program)
    {
        if (nvrtcGetProgramLogSize(program, out var size) != 0 || size == 0) return "(no log)";
        var bytes = new byte[(int)size];
        nvrtcGetProgramLog(program, bytes);
        return System.Text.Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }

    static void Check(int result, string call, string name)
    {
        if (result != 0) throw new InvalidOperationException($"NVRTC: {call} failed for {name} with error {result}");
    }
}
