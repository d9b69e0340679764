using System.Diagnostics;
using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Training.Data;
using RaftPipeline.Training.Loop;
using RaftPipeline.Training.Loss;
using RaftPipeline.Training.Optimizers;
using RaftPipeline.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

// Training throughput of our decoder + LoRA (bf16 base) or QLoRA (NF4 base), random weights of a given shape.
// usage: dotnet RaftPipeline.Bench.Training.dll --shape 4b|tiny|llama3-8b|gemma3-4b|llama3-tiny|gemma3-tiny --mode lora|qlora [--device cuda|cpu] [--steps 8]
//        [--warmup 2] [--batch 2] [--seq 1000] [--ckpt on|off] [--optim adamw|adamw8bit] [--out results.jsonl]
//        [--load-check on]  (qlora: save as an NF4 folder, load it back through ModelFolderLoader, report device memory)
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
// --loss-chunk N: rows of [N × vocab] logits materialised at once by the chunked cross-entropy.
int lossChunk = int.Parse(a.Get("loss-chunk", CausalLmLoss.DefaultChunkRows.ToString()));
var optim = a.Get("optim", mode == "qlora" ? "adamw8bit" : "adamw") == "adamw8bit" ? OptimizerKind.AdamW8bit : OptimizerKind.AdamW;

var benchShape = BenchShape.Of(shape);
var config = benchShape.Config;

var build = Stopwatch.StartNew();
CausalLM model;
if (mode == "qlora")
{
    // As a model read from an NF4 folder would be: the dense 16-bit model never exists on the device. The decoder is
    // built on the CPU with uninitialised storage (never touched, so never resident), each projection is drawn on
    // the device, quantized there and its dense copy freed at once; then embeddings and norms move over.
    // Layer 0's seven projections are drawn and quantized on the CPU once; every layer gets a device copy of those
    // NF4 tensors (random weights either way: speed and memory are what is measured), so the GPU never holds a dense
    // weight or the quantizer's temporaries, exactly as when the train stage loads a quantize stage's NF4 folder.
    model = new CausalLM(config, ScalarType.BFloat16, CPU);
    var templates = new Dictionary<string, Nf4Tensor>();
    foreach (var path in model.LinearPaths().ToList())
    {
        using var scope = NewDisposeScope();
        string role = string.Join('.', path.Split('.')[^2..]); // e.g. self_attn.q_proj
        var slot = model.GetLinear(path);
        if (!templates.TryGetValue(role, out var q))
        {
            var dense = torch.empty([slot.OutFeatures, slot.InFeatures], ScalarType.BFloat16, CPU).normal_(0, 0.02);
            q = Nf4Quantizer.Quantize(dense, doubleQuant: true);
            foreach (var t in new[] { q.Packed, q.Absmax, q.QuantMap, q.NestedAbsmax, q.NestedQuantMap }) t?.DetachFromDisposeScope();
            templates[role] = q;
        }
        var onDevice = new Nf4Tensor
        {
            Packed = q.Packed.to(dev), Absmax = q.Absmax.to(dev), QuantMap = q.QuantMap.to(dev),
            NestedAbsmax = q.NestedAbsmax?.to(dev), NestedQuantMap = q.NestedQuantMap?.to(dev), NestedOffset = q.NestedOffset,
            Shape = q.Shape, DType = q.DType, BlockSize = q.BlockSize, NestedBlockSize = q.NestedBlockSize,
        };
        model.ReplaceLinear(path, new Nf4Linear(onDevice, null, ScalarType.BFloat16)).Dispose();
    }
    model.to(dev);
    InitDense(model, config);
    if (a.Get("load-check", "off") == "on")
    {
        // What the train stage's loader puts on the device for this shape: the model saved as a quantize stage's NF4
        // folder, freed, then read back by ModelFolderLoader; device memory (nvidia-smi's measure: the caching
        // allocator's reserve included) before and after. One JSON line, no training.
        string folder = Path.Combine(Path.GetTempPath(), $"raft-load-check-{shape}");
        Nf4ModelStore.Save(model, folder);
        long nf4Bytes = Directory.GetFiles(folder, "*.safetensors").Sum(f => new FileInfo(f).Length);
        model.Dispose();
        var before = DeviceMemory.UsedGib(device, 2);
        var clock = Stopwatch.StartNew();
        using (var loaded = RaftPipeline.Modeling.Loading.ModelFolderLoader.Load(folder, dev, ScalarType.BFloat16))
        {
            if (device == DeviceType.CUDA) cuda.synchronize();
            var check = new JsonObject
            {
                ["impl"] = "raftpipeline", ["check"] = "load_nf4_folder", ["shape"] = shape, ["model_type"] = config.ModelType,
                ["folder_gib"] = Math.Round(nf4Bytes / 1073741824.0, 2), ["load_s"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
                ["device_used_gib_before"] = before, ["device_used_gib_after"] = DeviceMemory.UsedGib(device, 2),
                ["model_device"] = loaded.Device.ToString(),
            };
            Console.WriteLine(check.ToJsonString());
            if (a.TryGet("out") is { } checkOut) File.AppendAllText(checkOut, check.ToJsonString() + "\n");
        }
        Directory.Delete(folder, recursive: true);
        return;
    }
    KbitTraining.Prepare(model, device == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32);
}
else
{
    model = new CausalLM(config, ScalarType.BFloat16, dev);
    InitDense(model, config);
    foreach (var p in model.parameters()) p.requires_grad = false;
}
// Embedding (also the head when tied) + an untied lm_head + the seven projections of each layer: what transformers'
// parameter count gives, norms aside, so MFU is computed on the same N on both sides.
long baseParameters = (config.TieWordEmbeddings ? 1 : 2) * config.VocabSize * (long)config.HiddenSize + config.NumHiddenLayers * (long)(
    config.HiddenSize * (config.NumAttentionHeads + 2 * config.NumKeyValueHeads) * config.HeadDim
    + config.NumAttentionHeads * config.HeadDim * config.HiddenSize + 3L * config.HiddenSize * config.IntermediateSize);
LoraInjector.Apply(model, new LoraConfig
{
    R = 4, Alpha = 8, Targets = LoraTargets.FromNames(config.Descriptor.LoraTargetNames.ToArray()), Seed = 1,
    TargetParameters = config.Descriptor.LoraTargetParameters, // Qwen3-MoE's experts, as peft reaches them
});
if (device == DeviceType.CUDA) cuda.synchronize();
double buildSeconds = build.Elapsed.TotalSeconds;
double? builtGib = DeviceMemory.UsedGib(device);
if (builtGib is not null) Console.Error.WriteLine($"device memory used after build: {builtGib:F2} GiB");

// Rows of `seq` random ids with the family's response template a third of the way in: the loss covers two thirds.
int[] template = benchShape.ResponseTemplate;
var collator = new CompletionOnlyCollator(new CollatorOptions(template, seq, benchShape.PadId));
var rnd = new Random(7);
var rows = Enumerable.Range(0, batch * (steps + warmup)).Select(_ =>
{
    var ids = Enumerable.Range(0, seq).Select(_ => rnd.Next(1000, benchShape.MaxRandomId)).ToArray();
    template.CopyTo(ids, seq / 3);
    return collator.Label(ids);
}).ToList();

if (a.Get("phases", "off") == "on")
{
    // Where a step's time goes: each phase timed alone (synchronised), plus how long the host takes merely to issue
    // forward + backward (if that is close to the synchronised time, the GPU waits on the host: launch-bound).
    var training = new DecoderTrainingModel(model, ckpt, ckptLayers);
    var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, (Tensor)p.parameter)).ToList();
    ITrainingOptimizer optimizer = optim == OptimizerKind.AdamW8bit ? new AdamW8bit(trainable) : new AdamW(trainable);
    var batchRows = rows.Take(batch).ToList();
    var phases = new Dictionary<string, List<double>>();
    void Time(string name, Action action, bool sync = true, bool syncFirst = true)
    {
        if (syncFirst && device == DeviceType.CUDA) cuda.synchronize();
        var clock = Stopwatch.StartNew();
        action();
        if (sync && device == DeviceType.CUDA) cuda.synchronize();
        (phases.TryGetValue(name, out var list) ? list : phases[name] = new()).Add(clock.Elapsed.TotalMilliseconds);
    }
    training.SetTraining(true);
    for (int i = 0; i < 4; i++)
    {
        using var scope = NewDisposeScope();
        var b = collator.Collate(batchRows, dev);
        long count = b.SupervisedTokens;
        var mask = b.MaskIfPadded;
        Time("forward_loss_no_grad", () => { using var _ = no_grad(); using var s = NewDisposeScope(); CausalLmLoss.SupervisedSum(training.HiddenStates(b.InputIds, mask), training.OutputWeight, b).item<float>(); });
        Time("forward_backward_host_issue", () =>
        {
            using var s = NewDisposeScope();
            var sum = CausalLmLoss.SupervisedSum(training.HiddenStates(b.InputIds, mask), training.OutputWeight, b);
            (sum / count).backward();
            RaftPipeline.Modeling.Native.BackwardTensors.ReleaseReturned(); training.AfterBackward();
        }, sync: false);
        if (device == DeviceType.CUDA) cuda.synchronize();
        foreach (var (_, p) in trainable) p.grad = null;
        // The same pass split in two, each half as the host queues it and then as the device drains what is left:
        // a drain near zero means the GPU had caught up with the host (bound by the host); a long one, the reverse.
        {
            using var s = NewDisposeScope();
            Tensor? sum = null;
            Time("forward_host_issue", () => sum = CausalLmLoss.SupervisedSum(training.HiddenStates(b.InputIds, mask), training.OutputWeight, b), sync: false);
            Time("forward_drain", () => { }, sync: true, syncFirst: false);
            Time("backward_host_issue", () => { (sum! / count).backward(); RaftPipeline.Modeling.Native.BackwardTensors.ReleaseReturned(); training.AfterBackward(); }, sync: false);
            Time("backward_drain", () => { }, sync: true, syncFirst: false);
        }
        foreach (var (_, p) in trainable) p.grad = null;
        Time("forward_backward", () =>
        {
            using var s = NewDisposeScope();
            var sum = CausalLmLoss.SupervisedSum(training.HiddenStates(b.InputIds, mask), training.OutputWeight, b);
            (sum / count).backward();
            RaftPipeline.Modeling.Native.BackwardTensors.ReleaseReturned(); training.AfterBackward();
        });
        Time("clip_grad_norm", () => GradientClipping.ClipByGlobalNorm(trainable.Select(p => p.Item2), 1.0));
        Time("optimizer_step", () => optimizer.Step(1e-4));
        foreach (var (_, p) in trainable) p.grad = null;
    }
    var phaseJson = new JsonObject();
    foreach (var (name, values) in phases) phaseJson[name + "_ms"] = Math.Round(values.Skip(1).Average(), 2); // first pass warms up
    Console.WriteLine(new JsonObject { ["impl"] = "raftpipeline", ["mode"] = mode, ["checkpointing"] = ckpt, ["phases"] = phaseJson,
        ["trainable_tensors"] = trainable.Count }.ToJsonString());
    return;
}

var timer = new StepTimer(warmup, device);
var options = new TrainerOptions
{
    BatchSize = batch, MaxSteps = steps + warmup, LearningRate = 1e-4, Optimizer = optim, Shuffle = false,
    LoggingSteps = 1000, MaxGradNorm = 1.0, LossChunkRows = lossChunk,
};
var result = new Trainer(new DecoderTrainingModel(model, ckpt, ckptLayers), collator, options, [timer]).Train(rows);
double seconds = timer.MeasuredSeconds;
double tokensPerSecond = steps * batch * (double)seq / seconds;
double tflops = 4.0 * baseParameters * tokensPerSecond / 1e12;
var line = new JsonObject
{
    ["impl"] = "raftpipeline", ["shape"] = shape, ["model_type"] = config.ModelType, ["mode"] = mode,
    ["rope_type"] = config.RopeScaling?.Type ?? "default", ["sliding_layers"] = Enumerable.Range(0, config.NumHiddenLayers).Count(config.IsSlidingLayer), ["device"] = device.ToString().ToLowerInvariant(),
    ["loss_chunk_rows"] = lossChunk, ["checkpointing"] = ckpt, ["checkpointed_layers"] = ckpt ? ckptLayers ?? config.NumHiddenLayers : 0,
    ["fused_kernels"] = device == DeviceType.CUDA && RaftPipeline.Modeling.Native.Cuda.FusedKernels.For(dev) is not null, ["optimizer"] = optim.ToString(), ["batch"] = batch, ["seq"] = seq,
    ["measured_steps"] = steps, ["tokens_per_second"] = Math.Round(tokensPerSecond, 1),
    ["step_seconds"] = Math.Round(seconds / steps, 4), ["model_tflops"] = Math.Round(tflops, 1),
    ["mfu_vs_790"] = Math.Round(tflops / 790.0, 4), ["build_seconds"] = Math.Round(buildSeconds, 1),
    ["device_used_gib_after_build"] = builtGib is null ? null : Math.Round(builtGib.Value, 2),
    ["device_used_gib_after_steps"] = DeviceMemory.UsedGib(device, 2),
    ["base_parameters"] = baseParameters, ["final_loss"] = Math.Round(result.StepLosses[^1], 4),
    ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm"),
}.ToJsonString();
Console.WriteLine(line);
if (a.TryGet("out") is { } outPath) File.AppendAllText(outPath, line + "\n");

// Norms at identity, as transformers initialises them: weight 1, or 0 where the family multiplies by (1 + weight).
static void InitDense(CausalLM model, ModelConfig config)
{
    using var _ = no_grad();
    foreach (var (name, p) in model.named_parameters())
        if (name.EndsWith("norm.weight", StringComparison.Ordinal)) p.fill_(1.0 - config.Descriptor.NormWeightOffset);
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
        string used = DeviceMemory.UsedGib(device) is { } gib ? $", device used {gib:F2} GiB" : "";
        Console.Error.WriteLine($"step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} at {_clock.Elapsed.TotalSeconds:F2} s{used}");
    }
}

static class DeviceMemory
{
    /// <summary>Device memory as nvidia-smi counts it (the caching allocator's reserve included), in GiB; null on the CPU.</summary>
    public static double? UsedGib(DeviceType device, int? digits = null)
    {
        if (device != DeviceType.CUDA) return null;
        double gib = RaftPipeline.Modeling.Native.Cuda.CudaMemory.UsedBytes() / 1073741824.0;
        return digits is { } d ? Math.Round(gib, d) : gib;
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
