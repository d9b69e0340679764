using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Training.Data;
using RaftPipeline.Training.Loop;
using RaftPipeline.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

// usage (GPU machine): bash .gpu/run.sh RaftPipeline.GpuChecks.dll REPO_ROOT OUT.json [cpu]
// Runs each check on CUDA against the committed fixtures or against the same computation on CPU; prints one line per
// check, writes all of them to OUT.json, exits 1 if any failed. Tolerances are stated per check.
string repo = args.Length > 0 ? args[0] : ".";
string? outPath = args.Length > 1 ? args[1] : null;
// A third argument "cpu" runs every check with CPU in CUDA's place: a smoke test of the program itself.
var gpuType = args.Length > 2 && args[2] == "cpu" ? DeviceType.CPU : DeviceType.CUDA;
TorchRuntime.EnsureInitialized(gpuType);
var gpu = new Device(gpuType);
var results = new JsonArray();
bool allPassed = true;

void Check(string name, double measured, double tolerance, string what)
{
    bool ok = measured <= tolerance && !double.IsNaN(measured);
    allPassed &= ok;
    Console.WriteLine($"{(ok ? "PASS" : "FAIL")} {name}: {what} = {measured:G4} (tolerance {tolerance:G3})");
    results.Add(new JsonObject { ["check"] = name, ["passed"] = ok, ["measured"] = measured, ["tolerance"] = tolerance, ["what"] = what });
}

string peft = Path.Combine(repo, "tests/RaftPipeline.Modeling.Tests/Fixtures/peft_interop");
using var logits = SafetensorsFile.Open(Path.Combine(peft, "logits.safetensors"));
int sequences = logits.Entries.Count(e => e.Name.StartsWith("ids.", StringComparison.Ordinal));

// 1. The decoder and peft's adapter on CUDA in fp32: transformers' / peft's logits within 1e-4 (as on CPU).
double MaxDiff(CausalLM model, string name, ScalarType dtype)
{
    double worst = 0;
    for (int k = 0; k < sequences; k++)
    {
        using var scope = NewDisposeScope();
        var ids = logits.Read($"ids.{k}").unsqueeze(0).to(gpu);
        var expected = logits.Read($"{name}.{k}");
        var actual = model.forward(ids)[0].to(ScalarType.Float32).cpu();
        worst = Math.Max(worst, (expected - actual).abs().max().item<float>());
    }
    return worst;
}
using (var model = PretrainedLoader.Load(Path.Combine(peft, "base"), gpu, ScalarType.Float32))
{
    model.eval();
    using var _ = no_grad();
    Check("decoder_fp32_cuda", MaxDiff(model, "base", ScalarType.Float32), 1e-4, "max |ours − transformers| logit");
    AdapterStore.Load(model, Path.Combine(peft, "adapter"));
    model.eval();
    Check("peft_adapter_fp32_cuda", MaxDiff(model, "peft_adapter", ScalarType.Float32), 1e-4, "max |ours − peft| logit");
}
// 2. bf16 on CUDA against the fp32 reference: bf16 keeps 8 bits of mantissa, so logits of size ~1 move by ~1e-2.
using (var model = PretrainedLoader.Load(Path.Combine(peft, "base"), gpu, ScalarType.BFloat16))
{
    model.eval();
    using var _ = no_grad();
    Check("decoder_bf16_cuda", MaxDiff(model, "base", ScalarType.BFloat16), 5e-2, "max |ours bf16 − transformers fp32| logit");
}

// 3. NF4 on CUDA equals NF4 on CPU: same codes, same statistics, same dequantized weight; the quantized matmul
//    within bf16 rounding.
{
    using var scope = NewDisposeScope();
    var generator = torch.manual_seed(11);
    var weight = torch.randn([1024, 768], ScalarType.Float32).mul(0.02).to(ScalarType.BFloat16);
    using var onCpu = Nf4Quantizer.Quantize(weight, doubleQuant: true);
    using var onGpu = Nf4Quantizer.Quantize(weight.to(gpu), doubleQuant: true);
    double codeMismatch = onCpu.Packed.ne(onGpu.Packed.cpu()).sum().item<long>() / (double)onCpu.Packed.numel();
    Check("nf4_codes_cuda_vs_cpu", codeMismatch, 0, "share of packed code bytes that differ");
    Check("nf4_nested_absmax_cuda_vs_cpu", (onCpu.NestedAbsmax! - onGpu.NestedAbsmax!.cpu()).abs().max().item<float>(), 0, "max |Δ| nested absmax");
    var dqCpu = Nf4Quantizer.Dequantize(onCpu, ScalarType.BFloat16).to(ScalarType.Float32);
    var dqGpu = Nf4Quantizer.Dequantize(onGpu, ScalarType.BFloat16).to(ScalarType.Float32).cpu();
    Check("nf4_dequantize_cuda_vs_cpu", (dqCpu - dqGpu).abs().max().item<float>(), 0, "max |Δ| dequantized weight");
    var x = torch.randn([4, 768], ScalarType.Float32).to(ScalarType.BFloat16);
    using var linCpu = Nf4Linear.FromDense(weight, null, ScalarType.BFloat16, doubleQuant: true);
    using var linGpu = Nf4Linear.FromDense(weight.to(gpu), null, ScalarType.BFloat16, doubleQuant: true);
    var yCpu = linCpu.forward(x).to(ScalarType.Float32);
    var yGpu = linGpu.forward(x.to(gpu)).to(ScalarType.Float32).cpu();
    double rel = (yCpu - yGpu).abs().max().item<float>() / yCpu.abs().max().item<float>();
    Check("nf4_linear_cuda_vs_cpu", rel, 1e-2, "max |Δ| / max |y| of the quantized matmul (bf16)");
    var err = (dqCpu - weight.to(ScalarType.Float32)).pow(2).mean().sqrt().item<float>() / weight.to(ScalarType.Float32).pow(2).mean().sqrt().item<float>();
    Check("nf4_relative_rms_error", err, 0.1, "relative RMS error of the dequantized weight");
}

// 4. A short training run on CUDA follows the same run on CPU (fp32, same seeds, same rows, no shuffle).
{
    var config = new ModelConfig
    {
        Family = DecoderFamily.Qwen3, VocabSize = 96, HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2,
        NumAttentionHeads = 4, NumKeyValueHeads = 2, HeadDim = 16, RmsNormEps = 1e-6, RopeTheta = 1e4,
        TieWordEmbeddings = true, EosTokenIds = [2],
    };
    int[] template = [5, 6];
    var collator = new CompletionOnlyCollator(new CollatorOptions(template, 48, 2));
    var rnd = new Random(3);
    var rows = Enumerable.Range(0, 24).Select(_ =>
    {
        var q = Enumerable.Range(0, 4 + rnd.Next(8)).Select(_ => 10 + rnd.Next(40));
        var a = new[] { 60, 61, 62 }.Concat(Enumerable.Range(0, 2 + rnd.Next(6)).Select(_ => 64 + rnd.Next(30)));
        return collator.Label([1, .. q, .. template, .. a, 2]);
    }).ToList();
    IReadOnlyList<double> Losses(Device device, bool quantized)
    {
        var model = new CausalLM(config, ScalarType.Float32, CPU);
        RandomInit.Apply(model, seed: 5, std: 0.1);
        if (quantized) { model.to(ScalarType.BFloat16); Nf4ModelStore.QuantizeInPlace(model, ScalarType.BFloat16, true); KbitTraining.Prepare(model); }
        else foreach (var p in model.parameters()) p.requires_grad = false;
        LoraInjector.Apply(model, new LoraConfig { R = 4, Alpha = 8, Targets = LoraTargets.AllLinear(), Seed = 9, Init = LoraInit.Gaussian });
        model.to(device);
        var options = new TrainerOptions { BatchSize = 4, MaxSteps = 12, LearningRate = 5e-3, Shuffle = false, LoggingSteps = 100, Seed = 1 };
        return new Trainer(new DecoderTrainingModel(model, gradientCheckpointing: device.type == DeviceType.CUDA), collator, options, []).Train(rows).StepLosses;
    }
    foreach (var quantized in new[] { false, true })
    {
        var cpu = Losses(CPU, quantized);
        var cuda = Losses(gpu, quantized);
        double worst = cpu.Zip(cuda, (a, b) => Math.Abs(a - b) / Math.Abs(a)).Max();
        Console.WriteLine($"     losses cpu:  {string.Join(" ", cpu.Select(l => l.ToString("F4")))}");
        Console.WriteLine($"     losses cuda: {string.Join(" ", cuda.Select(l => l.ToString("F4")))}");
        Check(quantized ? "qlora_training_cuda_follows_cpu" : "lora_training_cuda_follows_cpu", worst,
            quantized ? 2e-2 : 1e-3, "max relative loss difference over 12 steps");
        Check(quantized ? "qlora_training_learns_cuda" : "lora_training_learns_cuda", cuda[^1] / cuda[0], 0.9, "last / first step loss");
    }
}

if (outPath is not null) File.WriteAllText(outPath, results.ToJsonString(new() { WriteIndented = true }) + "\n");
Console.WriteLine(allPassed ? "all checks passed" : "SOME CHECKS FAILED");
return allPassed ? 0 : 1;
