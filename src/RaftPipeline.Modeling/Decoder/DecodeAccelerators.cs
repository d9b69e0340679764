using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Native.Cuda;
using RaftPipeline.Modeling.Native.Cuda.Decode;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// The one place the generator asks for a decode accelerator, as <see cref="FusedPaths"/> is for the fused training
/// kernels. Today: <see cref="CudaDecodeSession"/> for greedy decoding (repetition penalty included) of bf16
/// Qwen3/Llama-style models on CUDA, batch 1–16 (<see cref="CudaDecodeSupport"/> lists what it covers). Everything else
/// (CPU, sampling, other families) decodes on the libtorch path.
/// On by default since its checks passed on an H100 (tests/gpu/results/2026-12-07-h100-decode.log: through the
/// batched decode loop, its greedy tokens follow an fp32 copy of the model as far as the libtorch path's do);
/// RAFT_CUDA_DECODE=0 (or RAFT_FUSED_KERNELS=0) decodes on the libtorch path.
/// </summary>
public static class DecodeAccelerators
{
    public static bool Enabled =>
        FusedKernels.Enabled && Environment.GetEnvironmentVariable("RAFT_CUDA_DECODE") is not ("0" or "false" or "off");

    // Each reason is printed once per process (a stage generates many times).
    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> Warned = new();

    /// <summary>Why the last <see cref="Open"/> on a CUDA model returned null, if it did.</summary>
    public static string? LastUnavailableReason { get; private set; }

    /// <param name="padCounts">each row's left padding (its first real token's column)</param>
    /// <param name="capacity">columns of the whole generation: prompt width + max new tokens</param>
    /// <param name="options">every row's options: the accelerator takes greedy rows that share one repetition penalty</param>
    public static IDecodeAccelerator? Open(CausalLM model, IReadOnlyList<int> padCounts, int capacity, IReadOnlyList<GenerationOptions> options)
    {
        if (!Enabled || model.Device.type != TorchSharp.DeviceType.CUDA) return null;
        // Sampling stays on the libtorch path: its draws come from the seeded CPU generator, so a seed means the same
        // tokens on every device; a device generator would break that.
        if (options.Any(o => o.DoSample) || options.Select(o => o.RepetitionPenalty).Distinct().Count() > 1)
        {
            LastUnavailableReason = "sampling (and rows with different repetition penalties) run on the libtorch path";
            return null;
        }
        // A model the kernels do not cover (another family, fp32) decodes on the libtorch path as it always did, said
        // only when the session was asked for by name (RAFT_CUDA_DECODE=1); a covered model whose session fails to open
        // (NVRTC or the driver missing, a kernel that does not compile) is always said.
        var session = CudaDecodeSession.TryOpen(model, padCounts, capacity, out var why, options[0].RepetitionPenalty);
        LastUnavailableReason = why;
        if (why is null) return session;
        bool asked = Environment.GetEnvironmentVariable("RAFT_CUDA_DECODE") is "1" or "true" or "on";
        bool covered = CudaDecodeSupport.WhyNot(model, padCounts.Count, capacity) is null;
        if ((asked || covered) && Warned.TryAdd(why, 0))
            Console.Error.WriteLine($"raft: CUDA decode kernels not used, decoding on the libtorch path: {why}");
        return session;
    }
}
