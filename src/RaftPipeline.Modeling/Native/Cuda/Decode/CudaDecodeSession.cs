using System.Runtime.InteropServices;
using RaftPipeline.Modeling.Decoder;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Native.Cuda.Decode;

/// <summary>
/// Greedy decoding of a dense decoder (Qwen3, Llama: <see cref="CudaDecodeSupport"/> says which) on the GPU without the
/// host in the loop: after the prompt's forward pass on the libtorch path, <see cref="Start"/> copies its KV cache into a
/// static cache of the session, and each <see cref="Next"/> runs one whole decode step (embedding, every layer's norms,
/// projections, q/k norm + RoPE + cache write, attention, SwiGLU, residuals, the final norm, the output head and the
/// argmax) as one CUDA graph replay on the session's stream; the host writes one id per row in and reads one id per row
/// out. RAFT_CUDA_GRAPH=0 launches the same kernels one by one instead (for diagnosis).
/// <para>
/// GEMMs: a batch of one reads each weight with the skinny GEMV kernels of decode_gemv.cu (one pass over the weights,
/// the step's bound); from two rows up the dense bf16 projections go through cuBLAS (tensor cores; the libcublas that
/// libtorch's CUDA build loads), whose outputs the next kernel adds to the residual. NF4 weights always take the
/// kernels, which read the 4-bit codes directly. RAFT_DECODE_CUBLAS=0 keeps every GEMM on the kernels, =1 sends the
/// dense ones of a single row to cuBLAS too.
/// </para>
/// <para>
/// Rounding follows the reference blocks (bf16 after every projection, norm, RoPE product and residual add; the norms'
/// sums in the reference kernel's order), but the GEMM sums run in another order than cuBLAS's, so logits differ by
/// bf16 rounding and a near-tie can pick another token: the GPU checks state the agreement.
/// </para>
/// </summary>
public sealed class CudaDecodeSession : IDecodeAccelerator
{
    readonly CausalLM _model;
    readonly DecodeKernels _kernels;
    readonly DecodeWeights _weights = new();
    readonly CudaStepGraph _graph;
    readonly List<Tensor> _buffers = [];
    readonly int _batch, _capacity, _form;
    readonly int _hidden, _heads, _kvHeads, _headDim, _inner, _vocab, _layers;
    readonly float _eps, _scale;
    readonly bool _useGraph;
    readonly LayerWeights[] _layerWeights;
    readonly ProjectionGroup _head;
    readonly IntPtr _embedTable, _finalNorm;
    readonly CublasApi? _cublas;
    readonly IntPtr _cublasHandle;
    readonly string _gemmBackend;

    // Device buffers (torch tensors on the model's device; the kernels read their addresses).
    readonly Tensor _state;   // int32 [1 + B]: slot, then the new ids
    readonly Tensor _pads;    // int32 [B]: first real slot per row
    readonly Tensor _next;    // int32 [B]
    readonly Tensor _h, _xn, _qkv, _q, _attn, _act, _logits, _cos, _sin;
    readonly Tensor? _delta, _gateUp, _workspace; // cuBLAS: a projection's output before its residual add, gate|up, cuBLAS's workspace
    readonly Tensor[] _keys, _values;
    readonly Tensor? _seen;   // uint8 [B, vocab]: ids of each row so far (only with a repetition penalty)
    readonly float _penalty;

    // Pinned host buffers for the per-step copies.
    readonly IntPtr _hostState, _hostNext;
    int _slot = -1, _steps;
    string? _graphFailure;
    bool _disposed;

    sealed record LayerWeights(IntPtr InputNorm, IntPtr PostNorm, IntPtr QNorm, IntPtr KNorm, ProjectionGroup Qkv,
        ProjectionGroup O, ProjectionGroup GateUp, ProjectionGroup Down);

    /// <param name="padCounts">left padding of each row: its first real token sits at this slot</param>
    /// <param name="capacity">slots of the static cache: prompt width + new tokens</param>
    CudaDecodeSession(CausalLM model, IReadOnlyList<int> padCounts, int capacity, double repetitionPenalty)
    {
        var config = model.Config;
        _model = model;
        _batch = padCounts.Count;
        _capacity = capacity;
        _form = DecodeKernels.FormFor(_batch);
        _hidden = config.HiddenSize;
        _heads = config.NumAttentionHeads;
        _kvHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        _inner = config.IntermediateSize;
        _vocab = config.VocabSize;
        _layers = config.NumHiddenLayers;
        _eps = (float)config.RmsNormEps;
        _scale = (float)config.AttentionScale;
        _penalty = (float)repetitionPenalty;
        _useGraph = Environment.GetEnvironmentVariable("RAFT_CUDA_GRAPH") is not ("0" or "false" or "off");
        int ordinal = Math.Max(0, model.Device.index);
        _kernels = DecodeKernels.For(ordinal);
        _graph = new CudaStepGraph(ordinal);
        try
        {
            var device = model.Device;
            var layers = model.model.layers;
            _layerWeights = new LayerWeights[_layers];
            for (int i = 0; i < _layers; i++)
            {
                var l = layers[i];
                var a = l.self_attn;
                var m = l.mlp as Mlp ?? throw new NotSupportedException($"layer {i}'s feed-forward block is a {l.mlp.GetType().Name}, not a dense MLP");
                _layerWeights[i] = new LayerWeights(Bf16(l.input_layernorm.weight), Bf16(l.post_attention_layernorm.weight),
                    a.q_norm is null ? IntPtr.Zero : Bf16(a.q_norm.weight), a.k_norm is null ? IntPtr.Zero : Bf16(a.k_norm.weight),
                    _weights.Group(a.q_proj!, a.k_proj!, a.v_proj!), _weights.Group(a.o_proj),
                    _weights.Group(m.gate_proj!, m.up_proj!), _weights.Group(m.down_proj));
            }
            _weights.Upload(device);
            _head = _weights.DenseGroup(model.OutputWeight);
            _embedTable = Bf16(model.model.embed_tokens.weight);
            _finalNorm = Bf16(model.model.norm.weight);

            _state = Keep(torch.zeros(1 + _batch, ScalarType.Int32, device));
            _pads = Keep(torch.tensor(padCounts.ToArray(), ScalarType.Int32).to(device));
            _next = Keep(torch.zeros(_batch, ScalarType.Int32, device));
            _h = Keep(torch.empty([_batch, _hidden], ScalarType.BFloat16, device));
            _xn = Keep(torch.empty([_batch, _hidden], ScalarType.BFloat16, device));
            _qkv = Keep(torch.empty([_batch, (_heads + 2L * _kvHeads) * _headDim], ScalarType.BFloat16, device));
            _q = Keep(torch.empty([_batch, (long)_heads * _headDim], ScalarType.BFloat16, device));
            _attn = Keep(torch.empty([_batch, (long)_heads * _headDim], ScalarType.BFloat16, device));
            _act = Keep(torch.empty([_batch, _inner], ScalarType.BFloat16, device));
            _logits = Keep(torch.empty([_batch, _vocab], ScalarType.BFloat16, device));
            bool anyDense = !_head.IsNf4 || _layerWeights.Any(l => new[] { l.Qkv, l.O, l.GateUp, l.Down }.Any(g => !g.IsNf4));
            _gemmBackend = "decode kernels";
            if (CublasWanted(_batch) && anyDense)
            {
                _cublas = CublasApi.TryGet(out var why);
                if (_cublas is null) _gemmBackend = $"decode kernels ({why})";
                else
                {
                    _graph.MakeCurrent();
                    _cublasHandle = _cublas.Create();
                    _cublas.SetStream(_cublasHandle, _graph.Stream);
                    _workspace = Keep(torch.empty(CublasWorkspaceBytes, ScalarType.Byte, device));
                    _cublas.SetWorkspace(_cublasHandle, Ptr(_workspace), CublasWorkspaceBytes);
                    _delta = Keep(torch.empty([_batch, _hidden], ScalarType.BFloat16, device));
                    _gateUp = Keep(torch.empty([_batch, 2L * _inner], ScalarType.BFloat16, device));
                    _gemmBackend = $"cuBLAS for the dense bf16 projections ({_cublas.Name}), decode kernels for NF4";
                }
            }
            _seen = _penalty != 1f ? Keep(torch.zeros([_batch, _vocab], ScalarType.Byte, device)) : null;
            _keys = new Tensor[_layers];
            _values = new Tensor[_layers];
            for (int i = 0; i < _layers; i++)
            {
                _keys[i] = Keep(torch.zeros([_batch, _kvHeads, _capacity, _headDim], ScalarType.BFloat16, device));
                _values[i] = Keep(torch.zeros([_batch, _kvHeads, _capacity, _headDim], ScalarType.BFloat16, device));
            }
            // The reference's cos/sin for every slot (same function, same bf16 values as the libtorch path's RoPE).
            using (var scope = torch.NewDisposeScope())
            {
                var positions = torch.arange(0, _capacity, ScalarType.Int64, device).unsqueeze(0);
                var (cos, sin) = model.model.Rotary.Compute(positions, ScalarType.BFloat16);
                _cos = Keep(cos.squeeze(0).contiguous().MoveToOuterDisposeScope());
                _sin = Keep(sin.squeeze(0).contiguous().MoveToOuterDisposeScope());
            }
            int attentionShared = _capacity * sizeof(float);
            // Past 48 KB of shared memory a block needs the opt-in (the kernel also holds ~5 KB of static arrays).
            if (attentionShared > 40 * 1024) _kernels.AllowSharedMemory("decode_attention", attentionShared);
            CudaDriverApi.Check(CudaDriverApi.cuMemAllocHost(out _hostState, (nuint)(4 * (1 + _batch))), "cuMemAllocHost");
            CudaDriverApi.Check(CudaDriverApi.cuMemAllocHost(out _hostNext, (nuint)(4 * _batch)), "cuMemAllocHost");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// A session for <paramref name="model"/>, or null with the reason in <paramref name="why"/> when the kernels do not
    /// cover the model or the run (the caller then stays on the libtorch path).
    /// </summary>
    /// <param name="repetitionPenalty">1: off; else applied on the device before the argmax, as transformers' processor</param>
    public static CudaDecodeSession? TryOpen(CausalLM model, IReadOnlyList<int> padCounts, int capacity, out string? why,
        double repetitionPenalty = 1.0)
    {
        why = CudaDecodeSupport.WhyNot(model, padCounts.Count, capacity);
        if (why is not null) return null;
        try
        {
            return new CudaDecodeSession(model, padCounts, capacity, repetitionPenalty);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever stops the session (a model it cannot read, NVRTC or the driver missing, a kernel that does not
            // compile) leaves the generation on the libtorch path; the reason is kept for the caller to say.
            why = e is NotSupportedException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            return null;
        }
    }

    public int Batch => _batch;

    const long CublasWorkspaceBytes = 32L << 20;

    /// <summary>Whether the dense projections of a batch of <paramref name="batch"/> rows go through cuBLAS (see the class summary).</summary>
    static bool CublasWanted(int batch) => Environment.GetEnvironmentVariable("RAFT_DECODE_CUBLAS") switch
    {
        "0" or "off" or "false" => false,
        "1" or "on" or "true" => true,
        _ => batch >= 2,
    };

    /// <summary>Which GEMMs the step runs: cuBLAS for the dense projections, or the decode kernels (and why).</summary>
    public string GemmBackend => _gemmBackend;

    /// <summary>Whether the steps replay a captured graph (false: RAFT_CUDA_GRAPH=0, before the second step, or the capture failed).</summary>
    public bool GraphCaptured => _graph.Captured;

    /// <summary>Why the capture failed, if it did (the steps then launch the kernels one by one).</summary>
    public string? GraphFailure => _graphFailure;

    /// <summary>Extra device bytes for merged or dequantized weight copies.</summary>
    public long OwnedWeightBytes => _weights.OwnedBytes;

    /// <summary>The last step's logits [B, vocab] as fp32 on the CPU (for checks).</summary>
    public Tensor LastLogits()
    {
        _graph.Synchronize();
        return _logits.to(ScalarType.Float32).cpu();
    }

    public void Start(KvCache cache, Tensor idsSoFar)
    {
        int length = checked((int)cache.Length);
        if (length <= 0 || length >= _capacity) throw new ArgumentException($"the prompt fills {length} of {_capacity} cache slots");
        using (torch.no_grad())
        {
            for (int i = 0; i < _layers; i++)
            {
                var (k, v) = cache.Layer(i) ?? throw new InvalidOperationException($"the KV cache has no layer {i}");
                if (k.shape[0] != _batch || k.shape[1] != _kvHeads || k.shape[3] != _headDim)
                    throw new ArgumentException($"the KV cache of layer {i} is [{string.Join(", ", k.shape)}], expected [{_batch}, {_kvHeads}, ≥{length}, {_headDim}]");
                using var kd = _keys[i].narrow(2, 0, length);
                using var vd = _values[i].narrow(2, 0, length);
                using var ks = k.narrow(2, 0, length);
                using var vs = v.narrow(2, 0, length);
                kd.copy_(ks);
                vd.copy_(vs);
            }
        }
        if (_seen is not null)
        {
            using var noGrad = torch.no_grad();
            using var ids = idsSoFar.to(ScalarType.Int64, _seen.device);
            using var ones = torch.ones(ids.shape, ScalarType.Byte, _seen.device);
            _seen.zero_();
            _seen.scatter_(1, ids, ones);
        }
        // Our stream does not wait on libtorch's: the copies (and the prompt's forward pass) finish first.
        torch.cuda.synchronize();
        _slot = length;
    }

    public long[] Next(IReadOnlyList<long> lastTokens)
    {
        if (_slot < 0) throw new InvalidOperationException("Start the session with the prompt's KV cache first");
        if (lastTokens.Count != _batch) throw new ArgumentException($"{lastTokens.Count} tokens for a batch of {_batch}");
        if (_slot >= _capacity) throw new InvalidOperationException($"the session's cache of {_capacity} slots is full");
        Marshal.WriteInt32(_hostState, _slot);
        for (int b = 0; b < _batch; b++)
        {
            long id = lastTokens[b];
            if (id < 0 || id >= _vocab) throw new ArgumentOutOfRangeException(nameof(lastTokens), id, $"token id outside the vocabulary of {_vocab}");
            Marshal.WriteInt32(_hostState, 4 * (1 + b), (int)id);
        }
        _graph.MakeCurrent();
        var stream = _graph.Stream;
        CudaDriverApi.Check(CudaDriverApi.cuMemcpyHtoDAsync(TensorMemory.Address(_state), _hostState, (nuint)(4 * (1 + _batch)), stream), "cuMemcpyHtoDAsync");
        // The first step launches the kernels directly (every kernel is loaded by then, so nothing loads during the
        // capture); the second captures the step once and every later step replays it. A capture the driver refuses
        // leaves this session on direct launches (same kernels, same results) and says why once.
        if ((_useGraphOverride ?? _useGraph) && _graphFailure is null && _steps > 0)
        {
            if (!_graph.Captured)
            {
                try { _graph.Capture(EnqueueStep); }
                catch (InvalidOperationException e)
                {
                    _graphFailure = e.Message;
                    Console.Error.WriteLine($"raft: CUDA graph capture of the decode step failed, launching its kernels one by one: {e.Message}");
                }
            }
            if (_graph.Captured) _graph.Launch();
            else EnqueueStep();
        }
        else EnqueueStep();
        _steps++;
        CudaDriverApi.Check(CudaDriverApi.cuMemcpyDtoHAsync(_hostNext, TensorMemory.Address(_next), (nuint)(4 * _batch), stream), "cuMemcpyDtoHAsync");
        _graph.Synchronize();
        _slot++;
        var next = new long[_batch];
        for (int b = 0; b < _batch; b++) next[b] = Marshal.ReadInt32(_hostNext, 4 * b);
        return next;
    }

    /// <summary>Every launch of one decode step, in order, on the session's stream (captured once when graphs are on).</summary>
    void EnqueueStep()
    {
        IntPtr ids = TensorMemory.Address(_state) + 4, state = TensorMemory.Address(_state), pads = TensorMemory.Address(_pads);
        IntPtr h = Ptr(_h), xn = Ptr(_xn), qkv = Ptr(_qkv), q = Ptr(_q), attn = Ptr(_attn), act = Ptr(_act);
        int qkvWidth = (_heads + 2 * _kvHeads) * _headDim;
        IntPtr seen = _seen is null ? IntPtr.Zero : Ptr(_seen);
        Launch("decode_embed", _batch, 256, 0, _embedTable, ids, _hidden, h, seen, _vocab);
        IntPtr pending = IntPtr.Zero; // a cuBLAS output still to be added to h (by the next norm)
        for (int i = 0; i < _layers; i++)
        {
            var w = _layerWeights[i];
            Norm(h, ref pending, w.InputNorm);
            Project(w.Qkv, xn, _hidden, qkv, qkvWidth);
            int rows = _batch * (_heads + 2 * _kvHeads);
            Launch("decode_qk_rope_cache", (rows + 7) / 8, 256, 0, qkv, w.QNorm, w.KNorm, _eps, Ptr(_cos), Ptr(_sin), state, pads,
                _batch, _heads, _kvHeads, _headDim, _capacity, q, Ptr(_keys[i]), Ptr(_values[i]));
            Launch("decode_attention", (long)_batch * _heads, 128, _capacity * sizeof(float), q, Ptr(_keys[i]), Ptr(_values[i]),
                state, pads, _heads, _kvHeads, _headDim, _capacity, _scale, attn);
            pending = ProjectIntoResidual(w.O, attn, _heads * _headDim, h);
            Norm(h, ref pending, w.PostNorm);
            SwiGlu(w.GateUp, xn, act);
            pending = ProjectIntoResidual(w.Down, act, _inner, h);
        }
        Norm(h, ref pending, _finalNorm);
        Project(_head, xn, _hidden, Ptr(_logits), _vocab);
        Launch("decode_argmax", _batch, 1024, 0, Ptr(_logits), _vocab, seen, _penalty, Ptr(_next));
    }

    bool OnCublas(ProjectionGroup g) => _cublasHandle != IntPtr.Zero && !g.IsNf4;

    /// <summary>xn = norm(h), after adding a pending cuBLAS output to h (h = bf16(h + delta)) when there is one.</summary>
    void Norm(IntPtr h, ref IntPtr pending, IntPtr weight)
    {
        if (pending == IntPtr.Zero) Launch("decode_rms_norm", _batch, 256, 0, h, weight, Ptr(_xn), _hidden, _eps);
        else Launch("decode_add_rms_norm", _batch, 256, 0, h, pending, weight, Ptr(_xn), _hidden, _eps);
        pending = IntPtr.Zero;
    }

    /// <summary>y[:, 0:rows] = x · Wᵀ for a group without a residual (q|k|v, the output head).</summary>
    void Project(ProjectionGroup g, IntPtr x, int ldx, IntPtr y, int ldy)
    {
        if (!OnCublas(g)) { Gemm(g, x, ldx, y, ldy, IntPtr.Zero); return; }
        long offset = 0;
        for (int i = 0; i < g.Dense.Length; i++)
        {
            var (weight, rows, at) = (g.Dense[i], g.Rows[i], y + (nint)(offset * 2));
            Enqueue("cublas_gemm_bf16", () => _cublas!.GemmBf16(_cublasHandle, weight, rows, g.InFeatures, x, ldx, _batch, at, ldy));
            offset += rows;
        }
    }

    /// <summary>
    /// h += x · Wᵀ (o, down): the kernels add in their epilogue and return zero; cuBLAS writes the product apart and
    /// returns its address, which the next norm adds (<see cref="Norm"/>).
    /// </summary>
    IntPtr ProjectIntoResidual(ProjectionGroup g, IntPtr x, int ldx, IntPtr h)
    {
        if (!OnCublas(g)) { Gemm(g, x, ldx, h, _hidden, h); return IntPtr.Zero; }
        Project(g, x, ldx, Ptr(_delta!), _hidden);
        return Ptr(_delta!);
    }

    void SwiGlu(ProjectionGroup g, IntPtr x, IntPtr output)
    {
        if (!OnCublas(g)) { SwiGluGemm(g, x, output); return; }
        Project(g, x, _hidden, Ptr(_gateUp!), 2 * _inner);
        long n = (long)_batch * _inner;
        Launch("decode_swiglu", (n + 255) / 256, 256, 0, Ptr(_gateUp!), _inner, _batch, output);
    }

    void Gemm(ProjectionGroup g, IntPtr x, int ldx, IntPtr y, int ldy, IntPtr residual)
    {
        int n = g.TotalRows;
        int n0 = g.Rows[0], n01 = g.Rows.Length > 1 ? n0 + g.Rows[1] : n;
        // Rows per warp (decode_gemv.cu: 2 from batch form 4 up); every stacked weight's rows must divide by it.
        int perWarp = _form >= 4 ? 2 : 1;
        if (g.Rows.Any(r => r % perWarp != 0)) throw new NotSupportedException($"projection rows {string.Join("+", g.Rows)} are not multiples of {perWarp}");
        long blocks = (n + 8L * perWarp - 1) / (8L * perWarp);
        if (g.IsNf4)
        {
            int d0 = g.Nf4[0], d1 = g.Nf4.Length > 1 ? g.Nf4[1] : -1, d2 = g.Nf4.Length > 2 ? g.Nf4[2] : -1;
            Launch($"decode_gemv_nf4_b{_form}", blocks, 256, 0, _weights.Nf4Table, d0, d1, d2, n0, n01, n, g.InFeatures, x, ldx,
                _batch, y, ldy, residual);
        }
        else
        {
            IntPtr w0 = g.Dense[0], w1 = g.Dense.Length > 1 ? g.Dense[1] : IntPtr.Zero, w2 = g.Dense.Length > 2 ? g.Dense[2] : IntPtr.Zero;
            Launch($"decode_gemv_bf16_b{_form}", blocks, 256, 0, w0, w1, w2, n0, n01, n, g.InFeatures, x, ldx, _batch, y, ldy, residual);
        }
    }

    void SwiGluGemm(ProjectionGroup g, IntPtr x, IntPtr output)
    {
        int n = g.Rows[0];
        long blocks = (n + 7) / 8;
        if (g.IsNf4)
            Launch($"decode_gemv_swiglu_nf4_b{_form}", blocks, 256, 0, _weights.Nf4Table, g.Nf4[0], g.Nf4[1], n, g.InFeatures, x, _batch, output);
        else
            Launch($"decode_gemv_swiglu_bf16_b{_form}", blocks, 256, 0, g.Dense[0], g.Dense[1], n, g.InFeatures, x, _batch, output);
    }

    void Launch(string kernel, long blocks, int threads, int shared, params object[] arguments) =>
        Enqueue(kernel, () => _kernels.Launch(_graph.Stream, kernel, blocks, threads, shared, arguments));

    /// <summary>Enqueues one piece of the step on the session's stream (between CUDA events when profiling).</summary>
    void Enqueue(string name, Action enqueue)
    {
        if (_profile is null)
        {
            enqueue();
            // The first step (never captured) waits for each piece, so a failing one is named: a fault inside a
            // graph replay only surfaces at the end of the step.
            if (_steps == 0)
            {
                try { _graph.Synchronize(); }
                catch (InvalidOperationException e) { throw new InvalidOperationException($"decode kernel {name} failed: {e.Message}", e); }
            }
            return;
        }
        CudaDriverApi.Check(CudaDriverApi.cuEventCreate(out var start, 0), "cuEventCreate");
        CudaDriverApi.Check(CudaDriverApi.cuEventCreate(out var end, 0), "cuEventCreate");
        _profile.Add((name, start, end));
        CudaDriverApi.Check(CudaDriverApi.cuEventRecord(start, _graph.Stream), "cuEventRecord");
        enqueue();
        CudaDriverApi.Check(CudaDriverApi.cuEventRecord(end, _graph.Stream), "cuEventRecord");
    }

    List<(string Kernel, IntPtr Start, IntPtr End)>? _profile;

    /// <summary>
    /// Runs one decode step (it counts as a step: the slot advances) with the kernels launched one by one between CUDA
    /// events, and returns the device time of each kernel name: launches and summed microseconds. For the benchmark's
    /// "where the time goes"; the graph replay runs the same kernels without the launch gaps.
    /// </summary>
    public IReadOnlyList<(string Kernel, int Launches, double Microseconds)> ProfileStep(IReadOnlyList<long> lastTokens)
    {
        _profile = [];
        try
        {
            _useGraphOverride = false;
            Next(lastTokens);
            return _profile.GroupBy(p => p.Kernel).Select(g => (g.Key, g.Count(), g.Sum(p =>
            {
                CudaDriverApi.Check(CudaDriverApi.cuEventElapsedTime(out var ms, p.Start, p.End), "cuEventElapsedTime");
                return ms * 1000.0;
            }))).OrderByDescending(r => r.Item3).ToList();
        }
        finally
        {
            foreach (var (_, a, b) in _profile) { CudaDriverApi.cuEventDestroy(a); CudaDriverApi.cuEventDestroy(b); }
            _profile = null;
            _useGraphOverride = null;
        }
    }

    bool? _useGraphOverride;

    Tensor Keep(Tensor t)
    {
        t.DetachFromDisposeScope();
        _buffers.Add(t);
        return t;
    }

    static IntPtr Ptr(Tensor t) => TensorMemory.Address(t);

    static IntPtr Bf16(Tensor t)
    {
        if (t.dtype != ScalarType.BFloat16 || t.device_type != DeviceType.CUDA || !t.is_contiguous())
            throw new NotSupportedException($"a weight of {t.dtype} on {t.device} is not a contiguous bf16 CUDA tensor");
        return TensorMemory.Address(t);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { _graph.Synchronize(); } catch (InvalidOperationException) { /* the error was reported by the step that failed */ }
        if (_cublasHandle != IntPtr.Zero) _cublas!.Destroy(_cublasHandle);
        _graph.Dispose();
        if (_hostState != IntPtr.Zero) CudaDriverApi.cuMemFreeHost(_hostState);
        if (_hostNext != IntPtr.Zero) CudaDriverApi.cuMemFreeHost(_hostNext);
        foreach (var t in _buffers) t.Dispose();
        _weights.Dispose();
    }
}
