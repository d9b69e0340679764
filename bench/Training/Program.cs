using System.Diagnostics;
using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Presets;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Training.Data;
using RaftPipeline.Training.Loop;
using RaftPipeline.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

// Training throughput of our decoder + LoRA (bf16 base) or QLoRA (NF4 base), random weights of a given shape.
// usage: dotnet RaftPipeline.Bench.Training.dll --shape 4b|tiny --mode lora|qlora [--device cuda|cpu] [--steps 8]
//        [--warmup 2] [--batch 2] [--seq 1000] [--ckpt on|off] [--optim adamw|adamw8bit] [--out results.jsonl]
// One JSON line per run (also appended to --out): tokens/s over the measured steps, step time, model-FLOPs
// utilisation (4·N FLOPs per token: forward 2N + backward through activations 2N; the frozen base gets no weight
// gradients), and the settings. Peak GPU memory is sampled outside (nvidia-smi), so ours and the Python baseline
// are measured the same way (bench/gpu/run-training.sh).
var a = Args.Parse(args);
var device = a.Get("device", "cuda") == "cuda" ? DeviceType.CUDA : DeviceType.CPU;
TorchRuntime.EnsureInitialized(device);
var dev = new Device(device);
string shape = a.Get("shape", "tiny"), mode = a.Get("mode", "lora");
int steps = int.Parse(a.Get("steps", "8")), warmup = int.Parse(a.Get("warmup", "2"));
int batch = int.Parse(a.Get("batch", "2")), seq = int.Parse(a.Get("seq", "1000"));
// --ckpt on|off|K: K = recompute only the first K decoder layers (the rest keep their activations).
string ckptArg = a.Get("ckpt", "on");
bool ckpt = ckptArg != "off" && ckptArg != "0";
int? ckptLayers = int.TryParse(ckptArg, out var k) ? k : null;
var optim = a.Get("optim", mode == "qlora" ? "adamw8bit" : "adamw") == "adamw8bit" ? OptimizerKind.AdamW8bit : OptimizerKind.AdamW;

var config = shape switch
{
    "tiny" => TinyPreset.Config,
    // Qwen3-4B-Instruct-2507's exact shape.
    "4b" => TinyPreset.Config with
    {
        HiddenSize = 2560, IntermediateSize = 9728, NumHiddenLayers = 36, NumAttentionHeads = 32,
        NumKeyValueHeads = 8, HeadDim = 128, RopeTheta = 5_000_000,
    },
    _ => throw new ArgumentException($"--shape: expected tiny or 4b, got '{shape}'"),
};

var build = Stopwatch.StartNew();
CausalLM model;
if (mode == "qlora")
{
    // As a model read from an NF4 folder would be: the dense 16-bit model never exists on the device. The decoder is
    // built on the CPU with uninitialised storage (never touched, so never resident), each projection is drawn on
    // the device, quantized there and its dense copy freed at once; then embeddings and norms move over.
    model = new CausalLM(config, ScalarType.BFloat16, CPU);
    foreach (var path in model.LinearPaths().ToList())
    {
        using var scope = NewDisposeScope();
        var slot = model.GetLinear(path);
        var dense = torch.empty([slot.OutFeatures, slot.InFeatures], ScalarType.BFloat16, dev).normal_(0, 0.02);
        model.ReplaceLinear(path, Nf4Linear.FromDense(dense, null, ScalarType.BFloat16, doubleQuant: true)).Dispose();
    }
    model.to(dev);
    InitDense(model);
    KbitTraining.Prepare(model, device == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32);
}
else
{
    model = new CausalLM(config, ScalarType.BFloat16, dev);
    InitDense(model);
    foreach (var p in model.parameters()) p.requires_grad = false;
}
long baseParameters = config.VocabSize * (long)config.HiddenSize + config.NumHiddenLayers * (long)(
    config.HiddenSize * (config.NumAttentionHeads + 2 * config.NumKeyValueHeads) * config.HeadDim
    + config.NumAttentionHeads * config.HeadDim * config.HiddenSize + 3L * config.HiddenSize * config.IntermediateSize);
LoraInjector.Apply(model, new LoraConfig
{
    R = 4, Alpha = 8, Targets = LoraTargets.FromNames("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), Seed = 1,
});
if (device == DeviceType.CUDA) cuda.synchronize();
double buildSeconds = build.Elapsed.TotalSeconds;

// Rows of `seq` random ids with the response template a third of the way in: the loss covers two thirds.
int[] template = [TinyPreset.ImStartId, 77091];
var collator = new CompletionOnlyCollator(new CollatorOptions(template, seq, TinyPreset.EndOfTextId));
var rnd = new Random(7);
var rows = Enumerable.Range(0, batch * (steps + warmup)).Select(_ =>
{
    var ids = Enumerable.Range(0, seq).Select(_ => rnd.Next(1000, 150000)).ToArray();
    template.CopyTo(ids, seq / 3);
    return collator.Label(ids);
}).ToList();

var timer = new StepTimer(warmup, device);
var options = new TrainerOptions
{
    BatchSize = batch, MaxSteps = steps + warmup, LearningRate = 1e-4, Optimizer = optim, Shuffle = false,
    LoggingSteps = 1000, MaxGradNorm = 1.0,
};
var result = new Trainer(new DecoderTrainingModel(model, ckpt, ckptLayers), collator, options, [timer]).Train(rows);
double seconds = timer.MeasuredSeconds;
double tokensPerSecond = steps * batch * (double)seq / seconds;
double tflops = 4.0 * baseParameters * tokensPerSecond / 1e12;
var line = new JsonObject
{
    ["impl"] = "raftpipeline", ["shape"] = shape, ["mode"] = mode, ["device"] = device.ToString().ToLowerInvariant(),
    ["checkpointing"] = ckpt, ["checkpointed_layers"] = ckpt ? ckptLayers ?? config.NumHiddenLayers : 0,
    ["fused_kernels"] = device == DeviceType.CUDA && RaftPipeline.Modeling.Native.Cuda.FusedKernels.For(dev) is not null, ["optimizer"] = optim.ToString(), ["batch"] = batch, ["seq"] = seq,
    ["measured_steps"] = steps, ["tokens_per_second"] = Math.Round(tokensPerSecond, 1),
    ["step_seconds"] = Math.Round(seconds / steps, 4), ["model_tflops"] = Math.Round(tflops, 1),
    ["mfu_vs_790"] = Math.Round(tflops / 790.0, 4), ["build_seconds"] = Math.Round(buildSeconds, 1),
    ["base_parameters"] = baseParameters, ["final_loss"] = Math.Round(result.StepLosses[^1], 4),
    ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm"),
}.ToJsonString();
Console.WriteLine(line);
if (a.TryGet("out") is { } outPath) File.AppendAllText(outPath, line + "\n");

static void InitDense(CausalLM model)
{
    using var _ = no_grad();
    foreach (var (name, p) in model.named_parameters())
        if (name.EndsWith("norm.weight", StringComparison.Ordinal)) p.fill_(1.0);
        else p.normal_(0, 0.02);
}

sealed class StepTimer(int warmup, DeviceType device) : ITrainerCallback
{
    readonly Stopwatch _clock = new();
    public double MeasuredSeconds => _clock.Elapsed.TotalSeconds;

    public void OnStepEnd(TrainingProgress p)
    {
        // The trainer reads the loss back every step (a device sync), so step ends are real time points.
        if (device == DeviceType.CUDA) cuda.synchronize();
        if (p.Step == warmup) _clock.Restart();
        Console.Error.WriteLine($"step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} at {_clock.Elapsed.TotalSeconds:F2} s");
    }
}

sealed class Args(Dictionary<string, string> values)
{
    public static Args Parse(string[] argv)
    {
        var d = new Dictionary<string, string>();
        for (int i = 0; i < argv.Length; i++)
        {
            if (!argv[i].StartsWith("--") || i + 1 >= argv.Length) throw new ArgumentException($"expected --name value pairs, got '{argv[i]}'");
            d[argv[i][2..]] = argv[++i];
        }
        return new Args(d);
    }
    public string Get(string name, string fallback) => values.GetValueOrDefault(name, fallback);
    public string? TryGet(string name) => values.GetValueOrDefault(name);
}
