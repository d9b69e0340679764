using System.Diagnostics;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Presets;
using TorchSharp;
using static TorchSharp.torch;

// Usage: dotnet run -c Release --project bench/Modeling -- [tiny|0.5b|4b|all] [torch-threads] [cpu|cuda]
//        dotnet run -c Release --project bench/Modeling -- decode-cost [torch-threads]
// Random weights; fp32 on CPU, bf16 on CUDA. Prints a markdown table row per measurement (and, on CUDA, one JSON
// line per shape for bench/gpu/run-inference.sh, which runs transformers on the same shapes in the same call).
// decode-cost: the tiny preset on CPU, what one decode step costs the host (DecodeCost.cs).
var which = args.Length > 0 ? args[0] : "all";
int threads = args.Length > 1 ? int.Parse(args[1]) : Environment.ProcessorCount;
if (which == "decode-cost")
{
    DecodeCost.Run(args.Length > 1 ? threads : 1);
    return;
}
var deviceType = args.Length > 2 && args[2] == "cuda" ? DeviceType.CUDA : DeviceType.CPU;
TorchRuntime.EnsureInitialized(deviceType);
torch.set_num_threads(threads);
var device = new Device(deviceType);
var dtype = deviceType == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;
void Sync() { if (deviceType == DeviceType.CUDA) cuda.synchronize(); }
Console.WriteLine($"# {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, torch threads {threads}, {deviceType} {dtype}, load {File.ReadAllText("/proc/loadavg").Trim()}");
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
if (which is "4b")
    shapes.Add(("Qwen3-4B shape", TinyPreset.Config with
    {
        HiddenSize = 2560, IntermediateSize = 9728, NumHiddenLayers = 36, NumAttentionHeads = 32,
        NumKeyValueHeads = 8, HeadDim = 128, RopeTheta = 5_000_000,
    }));

foreach (var (name, config) in shapes)
{
    using var model = new CausalLM(config, dtype, device);
    if (deviceType == DeviceType.CUDA)
        using (no_grad())
            foreach (var (pname, p) in model.named_parameters())
                if (pname.EndsWith("norm.weight", StringComparison.Ordinal)) p.fill_(1.0); else p.normal_(0, 0.02);
    else RandomInit.Apply(model, seed: 1);
    model.eval();
    long parameters = model.parameters().Sum(p => p.numel());
    using var noGrad = torch.no_grad();
    var ids = torch.randint(0, config.VocabSize, [1, 128], ScalarType.Int64).to(device);
    using (var warm = torch.NewDisposeScope()) model.Forward(ids);
    Sync();
    int runs = deviceType == DeviceType.CUDA ? 20 : 3;
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < runs; i++)
    {
        using var scope = torch.NewDisposeScope();
        model.Forward(ids, logitsToKeep: 1);
    }
    Sync();
    double forwardMs = clock.Elapsed.TotalMilliseconds / runs;
    var prompt = ids.cpu().data<long>().Take(32).Select(x => (int)x).ToArray();
    // No eos: random weights must not stop early, so every run decodes exactly MaxNewTokens.
    var options = new GenerationOptions { MaxNewTokens = 64, EosTokenIds = [] };
    TextGenerator.Generate(model, [prompt], options with { MaxNewTokens = 4 }); // warm-up
    Sync();
    clock.Restart();
    var generated = TextGenerator.Generate(model, [prompt], options).Single();
    Sync();
    double decodeTps = generated.NewIds.Count / clock.Elapsed.TotalSeconds;
    Console.WriteLine($"| {name} | {parameters / 1e6:F1} M | {forwardMs:F1} | {128 / (forwardMs / 1000):F0} | {decodeTps:F1} |");
    if (deviceType == DeviceType.CUDA)
        Console.WriteLine($"{{\"impl\":\"raftpipeline\",\"shape\":\"{name}\",\"dtype\":\"bf16\",\"forward_1x128_ms\":{forwardMs:F2},\"decode_tokens_per_s\":{decodeTps:F1},\"new_tokens\":{generated.NewIds.Count}}}");
}
