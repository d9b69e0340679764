using System.Runtime.InteropServices;

namespace RaftPipeline.Modeling.Native.Cuda;

/// <summary>
/// The few cuBLAS entry points the decode step's batched GEMMs need, from the libcublas that PyTorch's CUDA build
/// ships (libtorch_cuda links it, so once CUDA is initialised the library is already loaded and found by its soname).
/// The name carries the CUDA major version, so it is resolved at run time (RAFT_CUBLAS_LIBRARY, else the names CUDA 13
/// and 12 install) through function pointers: the assembly's one DllImport resolver belongs to <see cref="NvrtcApi"/>.
/// </summary>
sealed class CublasApi
{
    public const int OpN = 0, OpT = 1;
    public const int DataBf16 = 14;          // CUDA_R_16BF
    public const int ComputeFp32 = 68;       // CUBLAS_COMPUTE_32F
    public const int GemmDefault = -1;       // CUBLAS_GEMM_DEFAULT

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int CreateFn(out IntPtr handle);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int DestroyFn(IntPtr handle);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int SetStreamFn(IntPtr handle, IntPtr stream);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int SetWorkspaceFn(IntPtr handle, IntPtr workspace, nuint bytes);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate int GemmExFn(IntPtr handle, int transa, int transb, int m, int n, int k, ref float alpha, IntPtr a, int aType, int lda,
        IntPtr b, int bType, int ldb, ref float beta, IntPtr c, int cType, int ldc, int computeType, int algo);

    readonly CreateFn _create;
    readonly DestroyFn _destroy;
    readonly SetStreamFn _setStream;
    readonly SetWorkspaceFn _setWorkspace;
    readonly GemmExFn _gemmEx;

    CublasApi(IntPtr library, string name)
    {
        Name = name;
        T Get<T>(string symbol) where T : Delegate => Marshal.GetDelegateForFunctionPointer<T>(NativeLibrary.GetExport(library, symbol));
        _create = Get<CreateFn>("cublasCreate_v2");
        _destroy = Get<DestroyFn>("cublasDestroy_v2");
        _setStream = Get<SetStreamFn>("cublasSetStream_v2");
        _setWorkspace = Get<SetWorkspaceFn>("cublasSetWorkspace_v2");
        _gemmEx = Get<GemmExFn>("cublasGemmEx");
    }

    /// <summary>The library file or soname that was loaded.</summary>
    public string Name { get; }

    static readonly Lazy<(CublasApi? Api, string? Why)> Loaded = new(Load);

    /// <summary>cuBLAS, or null with the reason (the decode step then keeps its own GEMM kernels).</summary>
    public static CublasApi? TryGet(out string? why)
    {
        (var api, why) = Loaded.Value;
        return api;
    }

    static (CublasApi?, string?) Load()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("RAFT_CUBLAS_LIBRARY") is { Length: > 0 } explicitPath) candidates.Add(explicitPath);
        candidates.AddRange(["libcublas.so.13", "libcublas.so.12", "libcublas.so"]);
        foreach (var candidate in candidates)
        {
            if (!NativeLibrary.TryLoad(candidate, out var handle)) continue;
            try { return (new CublasApi(handle, candidate), null); }
            catch (EntryPointNotFoundException e) { return (null, $"{candidate}: {e.Message}"); }
        }
        return (null, $"cuBLAS was not found (tried {string.Join(", ", candidates)}; RAFT_CUBLAS_LIBRARY names another)");
    }

    public IntPtr Create()
    {
        Check(_create(out var handle), "cublasCreate");
        return handle;
    }

    public void Destroy(IntPtr handle) => _destroy(handle);

    public void SetStream(IntPtr handle, IntPtr stream) => Check(_setStream(handle, stream), "cublasSetStream");

    /// <summary>A workspace of our own: cuBLAS then allocates nothing while a CUDA graph is being captured.</summary>
    public void SetWorkspace(IntPtr handle, IntPtr workspace, long bytes) => Check(_setWorkspace(handle, workspace, (nuint)bytes), "cublasSetWorkspace");

    /// <summary>
    /// y[b, 0:rows] = x[b, 0:inFeatures] · W[rows, inFeatures]ᵀ for b &lt; batch, all bf16 and row-major (x with row
    /// stride <paramref name="ldx"/>, y with <paramref name="ldy"/>), fp32 accumulation, one rounding to bf16: the
    /// column-major view is C[rows, batch] = op_T(W) · X.
    /// </summary>
    public void GemmBf16(IntPtr handle, IntPtr weight, int rows, int inFeatures, IntPtr x, int ldx, int batch, IntPtr y, int ldy)
    {
        float alpha = 1f, beta = 0f;
        Check(_gemmEx(handle, OpT, OpN, rows, batch, inFeatures, ref alpha, weight, DataBf16, inFeatures, x, DataBf16, ldx,
            ref beta, y, DataBf16, ldy, ComputeFp32, GemmDefault), "cublasGemmEx");
    }

    static void Check(int status, string what)
    {
        if (status != 0) throw new InvalidOperationException($"{what} failed: cuBLAS status {status}");
    }
}
