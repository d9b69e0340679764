using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Generation;
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

// usage (GPU machine): bash .gpu/run.sh RaftPipeline.GpuChecks.dll REPO_ROOT OUT.json [cpu|cuda] [--decode]
// Runs each check on CUDA against the committed fixtures or against the same computation on CPU; prints one line per
// check, writes all of them to OUT.json, exits 1 if any failed. Tolerances are stated per check.
string repo = args.Length > 0 ? args[0] : ".";
string? outPath = args.Length > 1 ? args[1] : null;
// A third argument "cpu" runs every check with CPU in CUDA's place: a smoke test of the program itself.
var gpuType = args.Length > 2 && args[2] == "cpu" ? DeviceType.CPU : DeviceType.CUDA;
TorchRuntime.EnsureInitialized(gpuType);
var gpu = new Device(gpuType);
// "--decode" (after the device argument) runs only the CUDA decode session's checks (DecodeChecks.cs).
if (args.Contains("--decode")) return DecodeChecks.Run(gpu, outPath);
var log = new CheckLog();
void Check(string name, double measured, double tolerance, string what) => log.Check(name, measured, tolerance, what);

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

// 5. Our fused CUDA kernels (NVRTC, Native/Cuda) against the unfused libtorch ops they replace, on CUDA in bf16.
//    RAFT_FUSED_KERNELS=0 switches them off, so each pair runs the same module both ways.
if (gpuType == DeviceType.CUDA)
{
    T Unfused<T>(Func<T> f)
    {
        Environment.SetEnvironmentVariable("RAFT_FUSED_KERNELS", "0");
        try { return f(); } finally { Environment.SetEnvironmentVariable("RAFT_FUSED_KERNELS", null); }
    }
    double RelMax(Tensor a, Tensor b)
    {
        using var s = NewDisposeScope();
        var fa = a.to(ScalarType.Float32); var fb = b.to(ScalarType.Float32);
        return (fa - fb).abs().max().item<float>() / Math.Max(1e-30, fb.abs().max().item<float>());
    }
    var kernels = RaftPipeline.Modeling.Native.Cuda.FusedKernels.For(gpu);
    Check("fused_kernels_load", kernels is null ? 1 : 0, 0, "1 if NVRTC/driver kernels failed to load: " + (RaftPipeline.Modeling.Native.Cuda.FusedKernels.UnavailableReason ?? "loaded"));
    if (kernels is not null)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(21);
        foreach (var nested in new[] { true, false })
        {
            var w = torch.randn([1536, 1000], ScalarType.Float32, gpu).mul(0.02).to(ScalarType.BFloat16);
            using var q = Nf4Quantizer.Quantize(w, doubleQuant: nested);
            var fused = kernels.Nf4DequantizeBf16(q).to(ScalarType.Float32);
            var plain = Nf4Quantizer.Dequantize(q, ScalarType.BFloat16).to(ScalarType.Float32);
            Check(nested ? "nf4_dequantize_fused_nested" : "nf4_dequantize_fused_plain", (fused - plain).abs().max().item<float>(), 0,
                "max |fused − unfused| dequantized bf16 weight (identical bits expected)");
        }
        // NF4 linear with input gradient: Nf4MatmulFunction (fused dequant, weight re-dequantized in backward) vs unfused.
        {
            var w = torch.randn([768, 512], ScalarType.Float32, gpu).mul(0.02).to(ScalarType.BFloat16);
            using var lin = Nf4Linear.FromDense(w, null, ScalarType.BFloat16, doubleQuant: true);
            var x0 = torch.randn([3, 17, 512], ScalarType.Float32, gpu).to(ScalarType.BFloat16);
            (Tensor Y, Tensor G) Run()
            {
                var x = x0.detach().requires_grad_(true);
                var y = lin.forward(x);
                y.to(ScalarType.Float32).pow(2).sum().backward();
                return (y.detach(), x.grad!.detach());
            }
            var (yf, gf) = Run();
            var (yu, gu) = Unfused(Run);
            Check("nf4_linear_fused_forward", RelMax(yf, yu), 0, "max |Δ| / max |y| (same dequantized bits, same GEMM)");
            Check("nf4_linear_fused_input_grad", RelMax(gf, gu), 1e-2, "max |Δ| / max |dL/dx|, bf16");
        }
        foreach (var shape in new long[][] { [2, 37, 2560], [2, 37, 8, 128] })
        {
            long d = shape[^1];
            using var norm = new RmsNorm(d, 1e-6, ScalarType.BFloat16, gpu);
            using (no_grad()) norm.weight.copy_(torch.rand([d], ScalarType.Float32, gpu).add(0.5).to(ScalarType.BFloat16));
            norm.weight.requires_grad = false;
            var x0 = torch.randn(shape, ScalarType.Float32, gpu).mul(3).to(ScalarType.BFloat16);
            var upstream = torch.randn(shape, ScalarType.Float32, gpu).to(ScalarType.BFloat16);
            (Tensor Y, Tensor G) Run()
            {
                var x = x0.detach().requires_grad_(true);
                var y = norm.forward(x);
                y.backward([upstream]);
                return (y.detach(), x.grad!.detach());
            }
            var (yf, gf) = Run();
            var (yu, gu) = Unfused(Run);
            string tag = $"[{string.Join("x", shape)}]";
            Check($"rms_norm_fused_forward{tag}", RelMax(yf, yu), 1.6e-2, "max |Δ| / max |y| (bf16: at most ~1 ulp, from the fp32 reduction order)");
            Check($"rms_norm_fused_backward{tag}", RelMax(gf, gu), 2e-2, "max |Δ| / max |dL/dx| (unfused rounds to bf16 between ops)");
        }
        {
            var g0 = torch.randn([2, 37, 9728], ScalarType.Float32, gpu).mul(2).to(ScalarType.BFloat16);
            var u0 = torch.randn([2, 37, 9728], ScalarType.Float32, gpu).to(ScalarType.BFloat16);
            var upstream = torch.randn([2, 37, 9728], ScalarType.Float32, gpu).to(ScalarType.BFloat16);
            var fused = kernels.SwiGluForwardBf16(g0, u0);
            var plain = nn.functional.silu(g0) * u0;
            Check("swiglu_fused_forward", RelMax(fused, plain), 0, "max |Δ| / max |y| (same two roundings: identical bits expected)");
            var gr = g0.detach().requires_grad_(true); var ur = u0.detach().requires_grad_(true);
            (nn.functional.silu(gr) * ur).backward([upstream]);
            var (gg, gu) = kernels.SwiGluBackwardBf16(upstream, g0, u0);
            Check("swiglu_fused_backward_gate", RelMax(gg, gr.grad!), 2e-2, "max |Δ| / max |dL/dgate|, bf16");
            Check("swiglu_fused_backward_up", RelMax(gu, ur.grad!), 1e-2, "max |Δ| / max |dL/dup|, bf16");
            // The same kernels reading one gate|up projection output in place (a stacked LoRA group's output).
            var gateUp = torch.cat([g0, u0], -1);
            Check("swiglu_gate_up_forward", RelMax(kernels.SwiGluForwardFusedBf16(gateUp), fused), 0, "max |Δ| / max |y| vs separate gate and up (identical bits expected)");
            Check("swiglu_gate_up_backward", RelMax(kernels.SwiGluBackwardFusedBf16(upstream, gateUp), torch.cat([gg, gu], -1)), 0,
                "max |Δ| / max |dL/d(gate|up)| vs separate gradients (identical bits expected)");
        }
        {
            var rotary = new RotaryEmbedding(128, 5e6);
            var positions = torch.arange(0, 37, ScalarType.Int64, gpu).unsqueeze(0).expand(2, 37).contiguous();
            var (cos, sin) = rotary.Compute(positions.add(1000), ScalarType.BFloat16);
            var x0 = torch.randn([2, 37, 8, 128], ScalarType.Float32, gpu).to(ScalarType.BFloat16);
            var upstream = torch.randn([2, 8, 37, 128], ScalarType.Float32, gpu).to(ScalarType.BFloat16);
            (Tensor Y, Tensor G) Run()
            {
                var x = x0.detach().requires_grad_(true);
                var y = RotaryEmbedding.ApplyToProjection(x, cos, sin);
                y.backward([upstream]);
                return (y.detach().contiguous(), x.grad!.detach());
            }
            var (yf, gf) = Run();
            var (yu, gu) = Unfused(Run);
            Check("rope_fused_forward", RelMax(yf, yu), 0, "max |Δ| / max |y| (same three roundings: identical bits expected)");
            Check("rope_fused_backward", RelMax(gf, gu), 1e-2, "max |Δ| / max |dL/dx|, bf16");
        }
        // Attention inputs in one kernel (q/k norm, RoPE, transpose, GQA repeat): forward against the separate kernels
        // (same roundings: identical bits), and a whole attention block's output and input gradient against unfused ops.
        {
            var rotary = new RotaryEmbedding(128, 5e6);
            var positions = torch.arange(0, 37, ScalarType.Int64, gpu).unsqueeze(0).expand(2, 37).contiguous();
            var (cos, sin) = rotary.Compute(positions.add(100), ScalarType.BFloat16);
            var q0 = torch.randn([2, 37, 32, 128], ScalarType.Float32, gpu).to(ScalarType.BFloat16);
            var k0 = torch.randn([2, 37, 8, 128], ScalarType.Float32, gpu).to(ScalarType.BFloat16);
            var v0 = torch.randn([2, 37, 8, 128], ScalarType.Float32, gpu).to(ScalarType.BFloat16);
            var qw = torch.rand([128], ScalarType.Float32, gpu).add(0.5).to(ScalarType.BFloat16);
            var kw = torch.rand([128], ScalarType.Float32, gpu).add(0.5).to(ScalarType.BFloat16);
            var (qf, kf, vf) = kernels.AttentionInputsForwardBf16(q0, k0, v0, qw, kw, cos, sin, 1e-6);
            var qr = kernels.RopeForwardBf16(kernels.RmsNormForwardBf16(q0, qw, 1e-6), cos, sin).transpose(1, 2);
            var kr = kernels.RopeForwardBf16(kernels.RmsNormForwardBf16(k0, kw, 1e-6), cos, sin).transpose(1, 2).repeat_interleave(4, dim: 1);
            var vr = v0.transpose(1, 2).repeat_interleave(4, dim: 1);
            double worst = new[] { RelMax(qf, qr.contiguous()), RelMax(kf, kr.contiguous()), RelMax(vf, vr.contiguous()) }.Max();
            Check("attention_inputs_fused_forward", worst, 0, "max |Δ| / max |y| over q, k, v against the separate kernels (identical bits expected)");
            // One q|k|v projection output read in place, and its gradient written in place.
            var qkv = torch.cat([q0.reshape(2, 37, -1), k0.reshape(2, 37, -1), v0.reshape(2, 37, -1)], -1);
            var (qs, ks, vs) = kernels.AttentionInputsForwardFusedBf16(qkv, 32, 8, qw, kw, cos, sin, 1e-6);
            Check("attention_inputs_qkv_forward", new[] { RelMax(qs, qf), RelMax(ks, kf), RelMax(vs, vf) }.Max(), 0, "max |Δ| / max |y| vs three separate inputs (identical bits expected)");
            var (gq1, gk1, gv1) = kernels.AttentionInputsBackwardBf16(qf, kf, vf, q0, k0, qw, kw, cos, sin, 1e-6);
            var gqkv = kernels.AttentionInputsBackwardFusedBf16(qf, kf, vf, qkv, 32, 8, qw, kw, cos, sin, 1e-6);
            Check("attention_inputs_qkv_backward", RelMax(gqkv, torch.cat([gq1.reshape(2, 37, -1), gk1.reshape(2, 37, -1), gv1.reshape(2, 37, -1)], -1)), 0,
                "max |Δ| / max |dL/dqkv| vs three separate gradients (identical bits expected)");

            var config = new ModelConfig
            {
                Family = DecoderFamily.Qwen3, VocabSize = 64, HiddenSize = 512, IntermediateSize = 64, NumHiddenLayers = 1,
                NumAttentionHeads = 8, NumKeyValueHeads = 2, HeadDim = 128, RmsNormEps = 1e-6, RopeTheta = 5e6,
                TieWordEmbeddings = true, EosTokenIds = [2],
            };
            var attention = new Attention(config, 0, ScalarType.BFloat16, gpu);
            using (torch.no_grad())
                foreach (var (name, p) in attention.named_parameters())
                {
                    if (name.EndsWith("norm.weight")) p.uniform_(0.5, 1.5); else p.normal_(0, 0.05);
                    p.requires_grad = false;
                }
            var x0 = torch.randn([2, 37, 512], ScalarType.Float32, gpu).to(ScalarType.BFloat16);
            var upstream = torch.randn([2, 37, 512], ScalarType.Float32, gpu).to(ScalarType.BFloat16);
            (Tensor Y, Tensor G) Run()
            {
                var x = x0.detach().requires_grad_(true);
                var y = attention.Forward(x, cos, sin, null, true, null);
                y.backward([upstream]);
                return (y.detach(), x.grad!.detach());
            }
            var (yf, gf) = Run();
            var (yu, gu) = Unfused(Run);
            Check("attention_block_fused_inputs_forward", RelMax(yf, yu), 2e-2, "max |Δ| / max |y| of a Qwen3 attention block vs unfused ops, bf16");
            Check("attention_block_fused_inputs_backward", RelMax(gf, gu), 3e-2, "max |Δ| / max |dL/dx| vs unfused ops, bf16");
        }
        // Multi-tensor kernels: gradient clipping, AdamW and 8-bit AdamW over many small fp32 tensors, fused vs the
        // per-tensor libtorch ops, from the same start.
        {
            torch.manual_seed(5);
            long[][] shapes = Enumerable.Range(0, 40).Select(i => i % 2 == 0 ? new long[] { 4, 640 + 64 * i } : new long[] { 512 + 32 * i, 4 }).ToArray();
            var start = shapes.Select(sh => torch.randn(sh, ScalarType.Float32, gpu).mul(0.02)).ToList();
            var grads = Enumerable.Range(0, 6).Select(_ => shapes.Select(sh => torch.randn(sh, ScalarType.Float32, gpu).mul(0.5)).ToList()).ToList();
            (List<Tensor> Params, List<double> Norms) Run(string optimizer)
            {
                var ps = start.Select(t => t.clone().requires_grad_(true)).ToList();
                var named = ps.Select((t, i) => ($"p{i}", t)).ToList();
                RaftPipeline.Training.Optimizers.ITrainingOptimizer opt = optimizer == "adamw8bit"
                    ? new RaftPipeline.Training.Optimizers.AdamW8bit(named) : new RaftPipeline.Training.Optimizers.AdamW(named);
                var norms = new List<double>();
                foreach (var step in grads)
                {
                    for (int i = 0; i < ps.Count; i++) ps[i].grad = step[i].clone();
                    norms.Add(RaftPipeline.Training.Optimizers.GradientClipping.ClipByGlobalNorm(ps, 1.0));
                    opt.Step(1e-3);
                }
                return (ps.Select(t => t.detach()).ToList(), norms);
            }
            foreach (var optimizer in new[] { "adamw", "adamw8bit" })
            {
                var (pf, nf) = Run(optimizer);
                var (pu, nu) = Unfused(() => Run(optimizer));
                double normDiff = nf.Zip(nu, (a, b) => Math.Abs(a - b) / b).Max();
                Check($"clip_grad_norm_fused[{optimizer} run]", normDiff, 1e-5, "max relative difference of the pre-clip global norm over 6 steps");
                double worst = 0;
                for (int i = 0; i < pf.Count; i++)
                {
                    var moved = (pu[i] - start[i]).abs().max().item<float>();
                    worst = Math.Max(worst, (pf[i] - pu[i]).abs().max().item<float>() / Math.Max(1e-12, moved));
                }
                Check($"{optimizer}_fused_multi_tensor", worst, optimizer == "adamw" ? 1e-4 : 2e-2,
                    "max |p_fused − p_unfused| / max |p_unfused − p_0| per tensor after 6 clipped steps");
            }
        }
        // The LoRA compute-copy kernels: fp32 → bf16 with a scale, and bf16 → fp32 with a scale, set and accumulate.
        {
            torch.manual_seed(6);
            var masters = Enumerable.Range(0, 30).Select(i => torch.randn([4 + i % 3, 700 + 50 * i], ScalarType.Float32, gpu)).ToList();
            var copies = masters.Select(m => torch.empty(m.shape, ScalarType.BFloat16, gpu)).ToList();
            var scales = masters.Select((_, i) => i % 2 == 0 ? 2.0 : 1.5).ToList();
            using (var table = new RaftPipeline.Modeling.Native.Cuda.FusedKernels.ScaledCopyTable(
                masters.Select((m, i) => (m, copies[i], scales[i])).ToList()))
                kernels!.CastScaleFp32ToBf16(table);
            double castDiff = masters.Select((m, i) => (copies[i].to(ScalarType.Float32) - (m * scales[i]).to(ScalarType.BFloat16).to(ScalarType.Float32)).abs().max().item<float>()).Max();
            Check("lora_copies_cast_scale_bf16", castDiff, 0, "max |kernel − (master·s).to(bf16)| (identical bits expected)");
            var buffers = masters.Select(m => torch.randn(m.shape, ScalarType.Float32, gpu)).ToList();
            var expected = buffers.Select((b, i) => b + copies[i].to(ScalarType.Float32) * scales[i]).ToList();
            using (var back = new RaftPipeline.Modeling.Native.Cuda.FusedKernels.ScaledCopyTable(
                copies.Select((c, i) => (c, buffers[i], scales[i])).ToList()))
                kernels!.AccumulateScaledBf16ToFp32(back, accumulate: true);
            double accDiff = buffers.Select((b, i) => (b - expected[i]).abs().max().item<float>()).Max();
            Check("lora_copies_accumulate_fp32", accDiff, 1e-6, "max |kernel − (buffer + copy·s)| in fp32");
        }
        // A short bf16 LoRA and QLoRA run on CUDA, fused vs unfused: same data, seeds and checkpointing.
        {
            var config = new ModelConfig
            {
                Family = DecoderFamily.Qwen3, VocabSize = 512, HiddenSize = 256, IntermediateSize = 768, NumHiddenLayers = 2,
                NumAttentionHeads = 4, NumKeyValueHeads = 2, HeadDim = 64, RmsNormEps = 1e-6, RopeTheta = 1e4,
                TieWordEmbeddings = true, EosTokenIds = [2],
            };
            int[] template = [5, 6];
            var collator = new CompletionOnlyCollator(new CollatorOptions(template, 64, 2));
            var rnd = new Random(4);
            var rows = Enumerable.Range(0, 24).Select(_ =>
            {
                var q = Enumerable.Range(0, 6 + rnd.Next(10)).Select(_ => 10 + rnd.Next(200));
                var a = new[] { 300, 301, 302 }.Concat(Enumerable.Range(0, 4 + rnd.Next(8)).Select(_ => 310 + rnd.Next(150)));
                return collator.Label([1, .. q, .. template, .. a, 2]);
            }).ToList();
            IReadOnlyList<double> Losses(bool quantized, bool? copies = null)
            {
                using var model = new CausalLM(config, ScalarType.Float32, CPU);
                RandomInit.Apply(model, seed: 5, std: 0.1);
                model.to(ScalarType.BFloat16);
                if (quantized) { Nf4ModelStore.QuantizeInPlace(model, ScalarType.BFloat16, true); KbitTraining.Prepare(model, ScalarType.BFloat16); }
                else foreach (var p in model.parameters()) p.requires_grad = false;
                LoraInjector.Apply(model, new LoraConfig { R = 4, Alpha = 8, Targets = LoraTargets.AllLinear(), Seed = 9, Init = LoraInit.Gaussian });
                model.to(gpu);
                var options = new TrainerOptions { BatchSize = 4, MaxSteps = 12, LearningRate = 5e-3, Shuffle = false, LoggingSteps = 100, Seed = 1 };
                return new Trainer(new DecoderTrainingModel(model, gradientCheckpointing: true, loraComputeCopies: copies), collator, options, []).Train(rows).StepLosses;
            }
            foreach (var quantized in new[] { false, true })
            {
                // LoRA compute copies (the default on CUDA) vs each slot's own forward, both with our kernels.
                var withCopies = Losses(quantized);
                var perSlot = Losses(quantized, copies: false);
                Check(quantized ? "qlora_bf16_training_copies_follow_per_slot" : "lora_bf16_training_copies_follow_per_slot",
                    withCopies.Zip(perSlot, (a, b) => Math.Abs(a - b) / Math.Abs(b)).Max(), 1e-2, "max relative loss difference over 12 steps, bf16 on CUDA");

                var fused = Losses(quantized);
                var plain = Unfused(() => Losses(quantized));
                double worst = fused.Zip(plain, (a, b) => Math.Abs(a - b) / Math.Abs(b)).Max();
                Console.WriteLine($"     losses fused:   {string.Join(" ", fused.Select(l => l.ToString("F4")))}");
                Console.WriteLine($"     losses unfused: {string.Join(" ", plain.Select(l => l.ToString("F4")))}");
                Check(quantized ? "qlora_bf16_training_fused_follows_unfused" : "lora_bf16_training_fused_follows_unfused", worst, 2e-2,
                    "max relative loss difference over 12 steps, bf16 on CUDA");
            }
        }
    }
}

// 6. Every family on CUDA (Fixtures/families, generate.py there): fp32 with peft's adapter against peft's logits within
//    1e-4 (as on the CPU) and its greedy tokens against peft's generate() (the uncached run where the fixture has one:
//    longrope's cached generate() departs from its own uncached run, docs/architectures.md); bf16 with the fused
//    kernels where the family's math is theirs (FusedPaths falls back elsewhere) against the same model with every kernel off, within 2e-2 of the largest logit; a LoRA training step in
//    bf16, fused against unfused, within 2e-2 relative loss.
{
    T WithoutKernels<T>(Func<T> f)
    {
        Environment.SetEnvironmentVariable("RAFT_FUSED_KERNELS", "0");
        try { return f(); } finally { Environment.SetEnvironmentVariable("RAFT_FUSED_KERNELS", null); }
    }
    string families = Path.Combine(repo, "tests/RaftPipeline.Modeling.Tests/Fixtures/families");
    foreach (var name in new[] { "llama3", "llama_yarn", "llama_dynamic", "mistral", "phi3", "gemma2", "gemma3_text", "qwen3_moe", "phi3_longrope" })
    {
        var dir = Path.Combine(families, name);
        using var expected = SafetensorsFile.Open(Path.Combine(dir, "expected.safetensors"));
        var ids = expected.Read("long/input_ids");
        using (var model = PretrainedLoader.Load(Path.Combine(dir, "model"), gpu, ScalarType.Float32))
        {
            AdapterStore.Load(model, Path.Combine(dir, "adapter"));
            model.eval();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var got = model.forward(ids.to(gpu)).to(ScalarType.Float32).cpu();
            Check($"{name}_adapter_fp32_cuda", (got - expected.Read("long/adapter_logits")).abs().max().item<float>(), 1e-4, "max |ours − peft| logit");
            var key = expected.Contains("long/adapter_greedy_nocache") ? "long/adapter_greedy_nocache" : "long/adapter_greedy";
            var want = expected.Read(key).data<long>().Skip((int)ids.shape[1]).ToList();
            var prompt = ids.data<long>().Select(v => (int)v).ToList();
            var generated = TextGenerator.Generate(model, [prompt], new GenerationOptions { MaxNewTokens = want.Count, PadTokenId = 0, EosTokenIds = [255] })[0].NewIds;
            var ours = generated.Select(v => (long)v).Concat(Enumerable.Repeat(0L, want.Count)).Take(want.Count).ToList();
            Check($"{name}_adapter_greedy_fp32_cuda", ours.Zip(want, (a, b) => a == b ? 0 : 1).Sum(), 0,
                $"greedy tokens (of {want.Count}) that differ from peft's {key}");
        }
        double[] Bf16(bool train)
        {
            using var model = PretrainedLoader.Load(Path.Combine(dir, "model"), gpu, ScalarType.BFloat16);
            foreach (var p in model.parameters()) p.requires_grad = false;
            AdapterStore.Load(model, Path.Combine(dir, "adapter"));
            using var scope = NewDisposeScope();
            if (!train)
            {
                model.eval();
                using var _ = no_grad();
                return model.forward(ids.to(gpu)).to(ScalarType.Float32).cpu().data<float>().Select(v => (double)v).ToArray();
            }
            model.train();
            var trainable = LoraInjector.AdapterTensors(model).Select(a => a.Tensor).ToList(); // Qwen3-MoE's expert factors included
            foreach (var t in trainable) t.requires_grad_(true);
            var labels = expected.Read("train/labels").to(gpu);
            var hidden = model.model.Forward(expected.Read("train/input_ids").to(gpu));
            var loss = RaftPipeline.Training.Loss.CausalLmLoss.SupervisedSum(hidden, model.Head, labels) / RaftPipeline.Training.Loss.CausalLmLoss.SupervisedCount(labels);
            loss.backward();
            double gradNorm = Math.Sqrt(trainable.Sum(t => t.grad!.to(ScalarType.Float32).pow(2).sum().item<float>()));
            return [loss.item<float>(), gradNorm];
        }
        var fused = Bf16(train: false);
        var plain = WithoutKernels(() => Bf16(train: false));
        double scale = plain.Max(Math.Abs);
        Check($"{name}_bf16_fused_vs_unfused_logits", fused.Zip(plain, (a, b) => Math.Abs(a - b)).Max() / scale, 2e-2, "max |Δ| / max |logit|, bf16 on CUDA");
        var trainFused = Bf16(train: true);
        var trainPlain = WithoutKernels(() => Bf16(train: true));
        Check($"{name}_bf16_fused_vs_unfused_loss_and_grad", trainFused.Zip(trainPlain, (a, b) => Math.Abs(a - b) / Math.Abs(b)).Max(), 2e-2,
            "max relative difference of loss and LoRA gradient norm, bf16 on CUDA");
    }
}

// 7. A model over another's weights (ModelFolderLoader.ShareWeights: `raft serve`'s adapter engines) on CUDA in bf16,
// where q/k/v and gate/up are row blocks of one allocation: every weight at the same address, the same logits, and an
// adapter on the view gives what the base + adapter loaded on their own give, leaving the base's logits as they were.
{
    using var scope = NewDisposeScope();
    using var source = PretrainedLoader.Load(Path.Combine(peft, "base"), gpu, ScalarType.BFloat16);
    foreach (var p in source.parameters()) p.requires_grad = false;
    source.eval();
    using var shared = ModelFolderLoader.ShareWeights(source);
    var addresses = source.named_parameters().ToDictionary(p => p.name, p => TensorMemory.Address(p.parameter));
    Check("share_weights_addresses_cuda", shared.named_parameters().Count(p => addresses[p.name] != TensorMemory.Address(p.parameter)), 0,
        "parameters of the shared model not at their source's address");
    using var _ = no_grad();
    Tensor Forward(CausalLM m) => m.forward(logits.Read("ids.0").unsqueeze(0).to(gpu)).to(ScalarType.Float32).cpu();
    var before = Forward(source);
    Check("share_weights_logits_cuda", (Forward(shared) - before).abs().max().item<float>(), 0, "max |shared − source| logit, bf16 (identical bits expected)");
    AdapterStore.Load(shared, Path.Combine(peft, "adapter"));
    shared.eval();
    using var alone = PretrainedLoader.Load(Path.Combine(peft, "base"), gpu, ScalarType.BFloat16);
    AdapterStore.Load(alone, Path.Combine(peft, "adapter"));
    alone.eval();
    var expected = Forward(alone);
    Check("share_weights_adapter_cuda", (Forward(shared) - expected).abs().max().item<float>() / expected.abs().max().item<float>(), 1e-2,
        "max |Δ| / max |logit|, adapter on the shared model vs base + adapter loaded alone, bf16");
    Check("share_weights_source_untouched_cuda", (Forward(source) - before).abs().max().item<float>(), 0, "max |Δ| of the source's logits after the adapter went on its view");
}

log.Write(outPath);
Console.WriteLine(log.AllPassed ? "all checks passed" : "SOME CHECKS FAILED");
return log.AllPassed ? 0 : 1;
