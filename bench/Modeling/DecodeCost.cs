using System.Diagnostics;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Presets;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// What decoding costs the host on the tiny preset (CPU, fp32, random weights): per decode step, the managed bytes the
/// generating thread allocates (GC.GetAllocatedBytesForCurrentThread) and the TorchSharp tensors it creates (TorchSharp's
/// per-thread dispose-scope statistics: every Tensor object, views included, counts), the process's CPU time per step
/// (one torch thread; steadier than wall time on a shared machine), and tokens/s. Steady state is
/// measured between two steps of one long run, so prefill and warm-up are left out. The stage-shaped rows then
/// time 16 prompts of very different lengths decoded the way the eval and generate stages do it.
/// </summary>
static class DecodeCost
{
    public static void Run(int threads)
    {
        TorchRuntime.EnsureInitialized(DeviceType.CPU);
        torch.set_num_threads(threads);
        Console.WriteLine($"# {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, torch threads {threads}, CPU fp32, load {File.ReadAllText("/proc/loadavg").Trim()}");
        using var model = new CausalLM(TinyPreset.Config, ScalarType.Float32, CPU);
        RandomInit.Apply(model, seed: 1);
        model.eval();
        var rng = new Random(3);
        int[] Prompt(int length) => Enumerable.Range(0, length).Select(_ => rng.Next(1000, 100_000)).ToArray();

        // No eos: random weights must not stop early, so every row decodes exactly MaxNewTokens.
        var greedy = new GenerationOptions { MaxNewTokens = 160, EosTokenIds = [] };
        Console.WriteLine("| decode step | rows | managed bytes / step | tensors / step | CPU ms / step | tokens/s |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (int rows in new[] { 1, 8 })
        {
            var prompts = Enumerable.Range(0, rows).Select(_ => (IReadOnlyList<int>)Prompt(32)).ToList();
            TextGenerator.Generate(model, prompts, greedy with { MaxNewTokens = 4 }); // warm-up
            foreach (var (label, options) in new[] { ("greedy", greedy), ("greedy, repetition penalty 1.1", greedy with { RepetitionPenalty = 1.1 }),
                         ("top-k 64, top-p 0.95, T 0.7, penalty 1.1", greedy with { DoSample = true, TopK = 64, TopP = 0.95, Temperature = 0.7, RepetitionPenalty = 1.1, Seed = 1 }) })
            {
                var (bytes, tensors, cpuMs, tps) = SteadyState(model, prompts, options, from: 32, to: 160);
                Console.WriteLine($"| {label} | {rows} | {bytes:N0} | {tensors:F0} | {cpuMs:F2} | {tps:F1} |");
            }
        }

        // Stage-shaped: 16 prompts of 8 to 400 tokens, 48 new tokens each, greedy with the notebook's penalty.
        var mixed = new[] { 400, 12, 96, 8, 230, 40, 310, 16, 64, 180, 24, 350, 10, 128, 270, 32 }.Select(n => (IReadOnlyList<int>)Prompt(n)).ToList();
        var stage = greedy with { MaxNewTokens = 48, RepetitionPenalty = 1.1 };
        Console.WriteLine();
        Console.WriteLine("| 16 prompts of 8–400 tokens, 48 new each | managed bytes / token | tensors / token | CPU ms / token | tokens/s |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Report("one prompt at a time (generate stage before)", () => mixed.Sum(p => TextGenerator.Generate(model, [p], stage).Single().NewIds.Count));
        Report("input order, batches of 8 (eval stage before)", () => Enumerable.Range(0, 2)
            .Sum(b => TextGenerator.Generate(model, mixed.GetRange(b * 8, 8), stage).Sum(s => s.NewIds.Count)));
        var stageRows = mixed.Select(p => new GenerationRow(p, stage)).ToList();
        foreach (int size in new[] { 8, 16 })
            Report($"length-sorted, batches of {size}, finished rows dropped (both stages now)",
                () => TextGenerator.GenerateInBatches(model, stageRows, size).Sum(s => s.NewIds.Count));
    }

    static void Report(string label, Func<int> run)
    {
        var (bytes, tensors, cpuSeconds, seconds, tokens) = Count(run);
        Console.WriteLine($"| {label} | {bytes / tokens:N0} | {tensors / tokens:F0} | {cpuSeconds * 1000 / tokens:F2} | {tokens / seconds:F1} |");
    }

    static (double Bytes, double Tensors, double CpuSeconds, double Seconds, int Tokens) Count(Func<int> run)
    {
        var stats = DisposeScopeManager.Statistics.TensorStatistics;
        var cpu0 = CpuTime();
        long bytes0 = GC.GetAllocatedBytesForCurrentThread();
        long tensors0 = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
        var clock = Stopwatch.StartNew();
        int tokens = run();
        double seconds = clock.Elapsed.TotalSeconds;
        long bytes = GC.GetAllocatedBytesForCurrentThread() - bytes0, tensors = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - tensors0;
        return (bytes, tensors, (CpuTime() - cpu0).TotalSeconds, seconds, tokens);
    }

    /// <summary>CPU time of the whole process (one torch thread, so mostly this one): what a step costs, less exposed
    /// than wall time to the other jobs on a shared machine.</summary>
    static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    /// <summary>Per decode step between steps <paramref name="from"/> and <paramref name="to"/> of one run: bytes, tensors, tokens/s over all rows.</summary>
    static (double Bytes, double Tensors, double CpuMs, double TokensPerSecond) SteadyState(CausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts,
        GenerationOptions options, int from, int to)
    {
        var stats = DisposeScopeManager.Statistics.TensorStatistics;
        long bytes0 = 0, tensors0 = 0, bytes1 = 0, tensors1 = 0;
        TimeSpan cpu0 = default, cpu1 = default;
        var clock = new Stopwatch();
        TextGenerator.Generate(model, prompts, options with { MaxNewTokens = to + 1 }, token =>
        {
            // Called once per row per step; the first row marks the step boundary.
            if (token.Sequence != 0) return;
            if (token.Step == from)
            {
                cpu0 = CpuTime();
                bytes0 = GC.GetAllocatedBytesForCurrentThread();
                tensors0 = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
                clock.Start();
            }
            else if (token.Step == to)
            {
                clock.Stop();
                bytes1 = GC.GetAllocatedBytesForCurrentThread();
                tensors1 = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
                cpu1 = CpuTime();
            }
        });
        int steps = to - from;
        return ((bytes1 - bytes0) / (double)steps, (tensors1 - tensors0) / (double)steps, (cpu1 - cpu0).TotalMilliseconds / steps,
            steps * prompts.Count / clock.Elapsed.TotalSeconds);
    }
}
