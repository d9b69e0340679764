using System.Diagnostics;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Native.Cuda.Decode;
using RaftPipeline.Modeling.Presets;
using RaftPipeline.Modeling.Quantization;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// Issue 18's decode benchmark (mode "decode"): greedy generation of the Qwen3-4B shape with random weights made on the
/// GPU, a 64-token prompt and 128 new tokens, batch 1 and 16, bf16 then NF4 (quantized in place on the GPU): ours on the
/// libtorch path (RAFT_CUDA_DECODE=0) and ours with the CUDA decode session, each through TextGenerator.Generate as
/// the stages call it. tok/s = new tokens of all rows / wall time of the whole generate call (prompt's forward pass
/// included, as transformers' generate is timed); "decode only" leaves out the prompt's pass (first token to last).
/// bf16 also runs the session's other GEMM choice (cuBLAS for one row, the decode kernels for 16: RAFT_DECODE_CUBLAS).
/// Then one step of the session profiled kernel by kernel (CUDA events): where the step's time goes.
/// </summary>
static class DecodeBench
{
    public static void Run(Device device)
    {
        int promptTokens = EnvInt("RAFT_BENCH_PROMPT", 64), newTokens = EnvInt("RAFT_BENCH_NEW", 128);
        int baselineTokens = EnvInt("RAFT_BENCH_LIBTORCH_NEW", newTokens);
        var config = TinyPreset.Config with
        {
            HiddenSize = 2560, IntermediateSize = 9728, NumHiddenLayers = EnvInt("RAFT_BENCH_LAYERS", 36), NumAttentionHeads = 32,
            NumKeyValueHeads = 8, HeadDim = 128, RopeTheta = 5_000_000,
        };
        Console.WriteLine($"# decode bench: Qwen3-4B shape ({config.NumHiddenLayers} layers), prompt {promptTokens}, {newTokens} new tokens " +
                          $"(libtorch path: {baselineTokens}), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine("| weights | batch | path | tok/s (whole generate) | decode-only tok/s | ms / step |");
        Console.WriteLine("|---|---|---|---|---|---|");
        using var model = new CausalLM(config, ScalarType.BFloat16, device);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name.EndsWith("norm.weight", StringComparison.Ordinal)) p.fill_(1.0); else p.normal_(0, 0.02);
        foreach (var p in model.parameters()) p.requires_grad = false; // inference: frozen, as a loaded model
        model.eval();
        var rnd = new Random(5);
        foreach (var weights in new[] { "bf16", "nf4" })
        {
            if (weights == "nf4")
            {
                var clock = Stopwatch.StartNew();
                Nf4ModelStore.QuantizeInPlace(model, ScalarType.BFloat16, doubleQuant: true);
                cuda.synchronize();
                Console.WriteLine($"# NF4 quantization in place on the GPU: {clock.Elapsed.TotalSeconds:F1} s");
            }
            foreach (var batch in new[] { 1, 16 })
            {
                var prompts = Enumerable.Range(0, batch)
                    .Select(_ => (IReadOnlyList<int>)Enumerable.Range(0, promptTokens).Select(_ => 1 + rnd.Next(config.VocabSize - 1)).ToList()).ToList();
                // The session's default GEMMs (decode kernels for one row, cuBLAS from two), then the other choice for bf16.
                var paths = weights == "bf16" ? new[] { "libtorch", "cuda-decode", batch == 1 ? "cuda-decode-cublas" : "cuda-decode-kernels" }
                    : new[] { "libtorch", "cuda-decode" };
                foreach (var path in paths)
                {
                    try
                    {
                        Environment.SetEnvironmentVariable("RAFT_CUDA_DECODE", path == "libtorch" ? "0" : "1");
                        Environment.SetEnvironmentVariable("RAFT_DECODE_CUBLAS", path switch { "cuda-decode-cublas" => "1", "cuda-decode-kernels" => "0", _ => null });
                        int count = path == "libtorch" ? baselineTokens : newTokens;
                        var (total, decodeOnly, produced) = Time(model, prompts, count);
                        Console.WriteLine($"| {weights} | {batch} | {path} | {total:F1} | {decodeOnly:F1} | {1000.0 * batch / decodeOnly:F2} |");
                        Console.WriteLine($"{{\"impl\":\"raftpipeline-{path}\",\"weights\":\"{weights}\",\"batch\":{batch},\"prompt\":{promptTokens},\"new_tokens\":{produced / batch}," +
                                          $"\"tokens_per_s\":{total:F1},\"decode_only_tokens_per_s\":{decodeOnly:F1}}}");
                        if (path == "cuda-decode" && DecodeAccelerators.LastUnavailableReason is { } why)
                            Console.WriteLine($"#   (the session did not open: {why})");
                    }
                    catch (Exception e)
                    {
                        Console.WriteLine($"| {weights} | {batch} | {path} | FAILED: {e.GetType().Name}: {e.Message.Split('\n')[0]} | | |");
                    }
                    finally
                    {
                        Environment.SetEnvironmentVariable("RAFT_CUDA_DECODE", null);
                        Environment.SetEnvironmentVariable("RAFT_DECODE_CUBLAS", null);
                    }
                }
                try { Profile(model, prompts, weights); }
                catch (Exception e) { Console.WriteLine($"# profile {weights} batch {batch} FAILED: {e.GetType().Name}: {e.Message.Split('\n')[0]}"); }
            }
        }
    }

    /// <summary>One warm-up generate of 4 tokens, then the timed one; returns (tok/s overall, tok/s after the first token, tokens).</summary>
    static (double Total, double DecodeOnly, int Produced) Time(CausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts, int newTokens)
    {
        var options = new GenerationOptions { MaxNewTokens = newTokens, EosTokenIds = [], PadTokenId = 0 };
        TextGenerator.Generate(model, prompts, options with { MaxNewTokens = 4 });
        cuda.synchronize();
        double first = 0, last = 0;
        int produced = 0;
        var clock = Stopwatch.StartNew();
        var result = TextGenerator.Generate(model, prompts, options, t =>
        {
            produced++;
            if (t.Step == 0 && first == 0) first = clock.Elapsed.TotalSeconds;
            last = clock.Elapsed.TotalSeconds;
        });
        cuda.synchronize();
        double seconds = clock.Elapsed.TotalSeconds;
        int rows = prompts.Count;
        if (result.Any(r => r.NewIds.Count != newTokens)) throw new InvalidOperationException("a row stopped early");
        return (produced / seconds, (produced - rows) / Math.Max(1e-9, last - first), produced);
    }

    /// <summary>Steady step time of the graph replay (50 steps), then one step kernel by kernel with events.</summary>
    static void Profile(CausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts, string weights)
    {
        int b = prompts.Count, width = prompts[0].Count, steps = 60;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var ids = torch.tensor(prompts.SelectMany(p => p.Select(x => (long)x)).ToArray(), [b, width]).to(model.Device);
        using var cache = new KvCache(model.Config.NumHiddenLayers, width + steps + 2);
        model.Forward(ids, cache: cache, logitsToKeep: 1);
        using var session = CudaDecodeSession.TryOpen(model, new int[b], width + steps + 2, out var why)
            ?? throw new InvalidOperationException($"no session: {why}");
        session.Start(cache, ids);
        var tokens = Enumerable.Repeat(1L, b).ToArray();
        for (int i = 0; i < 5; i++) tokens = session.Next(tokens);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 50; i++) tokens = session.Next(tokens);
        double stepMs = clock.Elapsed.TotalMilliseconds / 50;
        var kernels = session.ProfileStep(tokens);
        double sum = kernels.Sum(k => k.Microseconds);
        Console.WriteLine($"# profile {weights} batch {b} ({session.GemmBackend}): graph step {stepMs:F3} ms (host write ids, replay, read ids); " +
                          $"kernels launched one by one, device time {sum / 1000:F3} ms:");
        foreach (var (kernel, launches, us) in kernels)
            Console.WriteLine($"#   {kernel,-34} {launches,4} launches {us / 1000,8:F3} ms {100 * us / sum,5:F1}%");
        long weightBytes = 0;
        foreach (var (name, p) in model.named_parameters()) if (!name.Contains("embed_tokens")) weightBytes += p.numel() * p.ElementSize;
        foreach (var (name, t) in model.named_buffers()) weightBytes += t.numel() * t.ElementSize;
        weightBytes += model.OutputWeight.numel() * model.OutputWeight.ElementSize; // tied head: the embedding is read once per step
        Console.WriteLine($"#   weights read per step {weightBytes / 1e9:F2} GB: {weightBytes / 1e9 / (stepMs / 1000):F0} GB/s over the graph step");
    }

    static int EnvInt(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), out var v) ? v : fallback;
}
