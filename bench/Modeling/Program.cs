using System.Diagnostics;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Presets;
using TorchSharp;
using static TorchSharp.torch;

// Usage: dotnet run -c Release --project bench/Modeling -- [tiny|0.5b|all] [threads]
// Random weights; fp32 on CPU. Prints a markdown table row per measurement.
var which = args.Length > 0 ? args[0] : "all";
int threads = args.Length > 1 ? int.Parse(args[1]) : Environment.ProcessorCount;
TorchRuntime.EnsureInitialized();
torch.set_num_threads(threads);
Console.WriteLine($"# {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, torch threads {threads}, load {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine("| model | params | forward 1×128 (ms) | prefill tok/s | greedy decode tok/s (64 new) |");
Console.WriteLine("|---|---|---|---|---|");

var shapes = new List<(string Name, ModelConfig Config)>();
if (which is "tiny" or "all") shapes.Add(("tiny preset", TinyPreset.Config));
if (which is "0.5b" or "all")
    shapes.Add(("0.5B shape (Qwen2.5-0.5B dims, qwen3 layout)", TinyPreset.Config with
    {
        HiddenSize = 896, IntermediateSize = 4864, NumHiddenLayers = 24, NumAttentionHeads = 14,
        NumKeyValueHeads = 2, HeadDim = 64,
    }));

foreach (var (name, config) in shapes)
{
    using var model = new CausalLM(config, ScalarType.Float32, CPU);
    RandomInit.Apply(model, seed: 1);
    model.eval();
    long parameters = model.parameters().Sum(p => p.numel());
    using var noGrad = torch.no_grad();
    var ids = torch.randint(0, config.VocabSize, [1, 128], ScalarType.Int64);
    using (var warm = torch.NewDisposeScope()) model.Forward(ids);
    const int runs = 3;
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < runs; i++)
    {
        using var scope = torch.NewDisposeScope();
        model.Forward(ids, logitsToKeep: 1);
    }
    double forwardMs = clock.Elapsed.TotalMilliseconds / runs;
    var prompt = ids.data<long>().Take(32).Select(x => (int)x).ToArray();
    var options = new GenerationOptions { MaxNewTokens = 64 };
    clock.Restart();
    var generated = TextGenerator.Generate(model, [prompt], options).Single();
    double decodeTps = generated.NewIds.Count / clock.Elapsed.TotalSeconds;
    Console.WriteLine($"| {name} | {parameters / 1e6:F1} M | {forwardMs:F0} | {128 / (forwardMs / 1000):F0} | {decodeTps:F1} |");
}
