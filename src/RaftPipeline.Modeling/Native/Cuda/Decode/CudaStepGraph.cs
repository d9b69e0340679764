namespace RaftPipeline.Modeling.Native.Cuda.Decode;

/// <summary>
/// A stream of our own (non-blocking: it never waits on libtorch's legacy stream, so it can be captured) and, once
/// captured, one CUDA graph of the work that <see cref="Capture"/> enqueued on it, replayed by <see cref="Launch"/>.
/// </summary>
sealed class CudaStepGraph : IDisposable
{
    readonly IntPtr _context;
    IntPtr _exec;

    public CudaStepGraph(int ordinal)
    {
        _context = PrimaryContext.For(ordinal).Context;
        PrimaryContext.MakeCurrent(_context);
        CudaDriverApi.Check(CudaDriverApi.cuStreamCreate(out var stream, CudaDriverApi.StreamNonBlocking), "cuStreamCreate");
        Stream = stream;
    }

    public IntPtr Stream { get; }

    public bool Captured => _exec != IntPtr.Zero;

    /// <summary>
    /// Records what <paramref name="enqueue"/> launches on <see cref="Stream"/> (nothing runs) and instantiates it. The
    /// capture is ended even when <paramref name="enqueue"/> throws, so the stream is never left capturing.
    /// </summary>
    public void Capture(Action enqueue)
    {
        PrimaryContext.MakeCurrent(_context);
        CudaDriverApi.Check(CudaDriverApi.cuStreamBeginCapture(Stream, CudaDriverApi.CaptureModeThreadLocal), "cuStreamBeginCapture");
        IntPtr graph = IntPtr.Zero;
        try
        {
            enqueue();
        }
        finally
        {
            int ended = CudaDriverApi.cuStreamEndCapture(Stream, out graph);
            if (ended != 0 && graph != IntPtr.Zero) CudaDriverApi.cuGraphDestroy(graph);
            CudaDriverApi.Check(ended, "cuStreamEndCapture");
        }
        try
        {
            CudaDriverApi.Check(CudaDriverApi.cuGraphInstantiateWithFlags(out var exec, graph, 0), "cuGraphInstantiate");
            _exec = exec;
        }
        finally
        {
            CudaDriverApi.cuGraphDestroy(graph);
        }
    }

    public void MakeCurrent() => PrimaryContext.MakeCurrent(_context);

    public void Launch()
    {
        PrimaryContext.MakeCurrent(_context);
        CudaDriverApi.Check(CudaDriverApi.cuGraphLaunch(_exec, Stream), "cuGraphLaunch");
    }

    public void Synchronize()
    {
        PrimaryContext.MakeCurrent(_context);
        CudaDriverApi.Check(CudaDriverApi.cuStreamSynchronize(Stream), "cuStreamSynchronize (a decode-step kernel failed)");
    }

    bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_exec != IntPtr.Zero) CudaDriverApi.cuGraphExecDestroy(_exec);
        _exec = IntPtr.Zero;
        CudaDriverApi.cuStreamDestroy(Stream);
    }
}
