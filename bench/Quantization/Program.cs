// Streaming NF4 quantization of the Qwen3-4B shape (a few layers): peak host memory, bytes per parameter,
// quantization error and dequantize+matmul time. Usage: dotnet run -c Release --project bench/Quantization [layers]
using System.Diagnostics;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Modeling.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

int layers = args.Length > 0 ? int.Parse(args[0]) : 3;
TorchRuntime.EnsureInitialized();
var config = new ModelConfig
{
    Family = DecoderFamily.Qwen3, VocabSize = 151936, HiddenSize = 2560, IntermediateSize = 9728, NumHiddenLayers = layers,
    NumAttentionHeads = 32, NumKeyValueHeads = 8, HeadDim = 128, RmsNormEps = 1e-6, RopeTheta = 5e6, TieWordEmbeddings = true,
    Dtype = "bfloat16",
};
var dir = Directory.CreateTempSubdirectory("nf4-bench-").FullName;
try
{
    // A random bf16 checkpoint, produced tensor by tensor so writing it never holds the model.
    var shapes = new List<(string Name, long[] Shape)> { ("model.embed_tokens.weight", [151936, 2560]), ("model.norm.weight", [2560]) };
    for (int i = 0; i < layers; i++)
    {
        var p = $"model.layers.{i}.";
        shapes.AddRange(new (string, long[])[]
        {
            (p + "input_layernorm.weight", [2560]), (p + "post_attention_layernorm.weight", [2560]),
            (p + "self_attn.q_proj.weight", [4096, 2560]), (p + "self_attn.k_proj.weight", [1024, 2560]),
            (p + "self_attn.v_proj.weight", [1024, 2560]), (p + "self_attn.o_proj.weight", [2560, 4096]),
            (p + "self_attn.q_norm.weight", [128]), (p + "self_attn.k_norm.weight", [128]),
            (p + "mlp.gate_proj.weight", [9728, 2560]), (p + "mlp.up_proj.weight", [9728, 2560]), (p + "mlp.down_proj.weight", [2560, 9728]),
        });
    }
    ulong seed = 1;
    var tensors = shapes.Select(s => new TensorToWrite(s.Name, ScalarType.BFloat16, s.Shape,
        () => (torch.randn(s.Shape, generator: new torch.Generator(seed++)) * 0.02).to(ScalarType.BFloat16))).ToList();
    SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors);
    File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJson());

    long layerBf16 = 2L * (4096 + 1024 + 1024 + 4096 + 3 * 9728) * 2560;
    long linearParams = layers * (4096L + 1024 + 1024 + 4096 + 3 * 9728) * 2560;
    long embedBf16 = 2L * 151936 * 2560;
    GC.Collect();
    long before = Rss();
    ResetPeak();
    var sw = Stopwatch.StartNew();
    using var model = Nf4ModelStore.QuantizeFromCheckpoint(dir);
    var quantizeSeconds = sw.Elapsed.TotalSeconds;
    long peak = Peak();
    long nf4Bytes = model.named_modules().Select(m => m.module).OfType<Nf4Linear>().Sum(l => l.Weight.StorageBytes);

    // Error against the original bf16 weights, and time of one dequantize + matmul (1 x 2560 -> 9728).
    using var checkpoint = SafetensorsCheckpoint.Open(dir);
    var gate = (Nf4Linear)model.GetLinear("model.layers.0.mlp.gate_proj");
    double relRms;
    using (var scope = NewDisposeScope())
    {
        var w = checkpoint.Read("model.layers.0.mlp.gate_proj.weight", dtype: ScalarType.Float32);
        var err = gate.DenseWeight(ScalarType.Float32) - w;
        relRms = (err.pow(2).mean().sqrt() / w.pow(2).mean().sqrt()).item<float>();
    }
    var x = torch.randn(1, 2560).to(ScalarType.BFloat16);
    gate.forward(x).Dispose();
    sw.Restart();
    const int reps = 5;
    for (int r = 0; r < reps; r++) gate.forward(x).Dispose();
    double forwardMs = sw.Elapsed.TotalMilliseconds / reps;

    Console.WriteLine($"layers: {layers} (Qwen3-4B shape), linear params: {linearParams:N0}");
    Console.WriteLine($"NF4 bytes (codes + statistics): {nf4Bytes:N0} = {(double)nf4Bytes / linearParams:F4} B/param");
    Console.WriteLine($"one layer in bf16: {layerBf16 / 1048576.0:F1} MiB; embedding bf16: {embedBf16 / 1048576.0:F1} MiB");
    Console.WriteLine($"RSS before: {before / 1048576.0:F1} MiB; peak during streamed quantization: {peak / 1048576.0:F1} MiB");
    Console.WriteLine($"peak - before - NF4 - embedding = {(peak - before - nf4Bytes - embedBf16) / 1048576.0:F1} MiB (vs one bf16 layer {layerBf16 / 1048576.0:F1} MiB)");
    Console.WriteLine($"quantize time: {quantizeSeconds:F1} s; gate_proj relative RMS error: {relRms:F4}; dequantize+matmul [1x2560]x[2560x9728]: {forwardMs:F1} ms");
}
finally
{
    Directory.Delete(dir, recursive: true);
}

static long Field(string name) =>
    long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(name)).Split(':')[1].Trim().Split(' ')[0]) * 1024;
static long Rss() => Field("VmRSS:");
static long Peak() => Field("VmHWM:");
// Writing 5 to clear_refs resets the peak resident set (VmHWM) of this process (Linux >= 4.0).
static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");
