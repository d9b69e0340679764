using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Native.Cuda;
using RaftPipeline.Modeling.Native.Cuda.Decode;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Native;

/// <summary>
/// The host side of the CUDA decode session: what it declines and why, and which kernel sources go into its module
/// (the session itself runs on the GPU only: tests/gpu GpuChecks --decode).
/// </summary>
public class CudaDecodeSupportTests
{
    public CudaDecodeSupportTests() => TorchRuntime.EnsureInitialized();

    static ModelConfig Tiny(DecoderFamily family = DecoderFamily.Qwen3) => new()
    {
        Family = family, VocabSize = 96, HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 1,
        NumAttentionHeads = 4, NumKeyValueHeads = 2, HeadDim = 16, RmsNormEps = 1e-6, RopeTheta = 1e4, TieWordEmbeddings = true,
    };

    [Fact]
    public void Declines_a_cpu_model_and_the_generator_decodes_on_the_libtorch_path()
    {
        using var model = new CausalLM(Tiny(), ScalarType.Float32, CPU);
        Assert.Equal("the model is not on a CUDA device", CudaDecodeSupport.WhyNot(model, 1, 64));
        Assert.Null(DecodeAccelerators.Open(model, [0], 64, [new GenerationOptions()]));
    }

    [Fact]
    public void Names_the_first_thing_the_kernels_do_not_cover()
    {
        Assert.Contains("batch", WhyNotIgnoringDevice(Tiny(), batch: 17));
        Assert.Contains("cache slots", WhyNotIgnoringDevice(Tiny(), capacity: CudaDecodeSupport.MaxCapacity + 1));
        Assert.Contains("Phi3", WhyNotIgnoringDevice(Tiny(DecoderFamily.Phi3)));
        Assert.Contains("Gemma2", WhyNotIgnoringDevice(Tiny(DecoderFamily.Gemma2)));
        Assert.Contains("biases", WhyNotIgnoringDevice(Tiny() with { QkvBias = true }));
        Assert.Contains("head size", WhyNotIgnoringDevice(Tiny() with { HeadDim = 12 }));
        Assert.Contains("vocabulary", WhyNotIgnoringDevice(Tiny() with { VocabSize = 97 }));
        Assert.Null(WhyNotIgnoringDevice(Tiny()));
        Assert.Null(WhyNotIgnoringDevice(Tiny(DecoderFamily.Llama) with { TieWordEmbeddings = false }));
    }

    static string? WhyNotIgnoringDevice(ModelConfig config, int batch = 1, int capacity = 64) =>
        CudaDecodeSupport.WhyNotForConfig(config, batch, capacity);

    [Fact]
    public void Sampling_stays_on_the_libtorch_path()
    {
        using var model = new CausalLM(Tiny(), ScalarType.Float32, CPU);
        Assert.Null(DecodeAccelerators.Open(model, [0], 64, [new GenerationOptions { DoSample = true }]));
    }

    [Fact]
    public void The_decode_module_holds_the_decode_kernels_and_the_shared_helpers_and_the_training_module_does_not()
    {
        var decode = DecodeKernels.Source();
        var training = FusedKernels.Source();
        foreach (var kernel in new[] { "decode_embed", "decode_rms_norm", "decode_qk_rope_cache", "decode_attention", "decode_argmax",
                     "decode_gemv_bf16_b##BM", "decode_gemv_swiglu_nf4_b##BM", "decode_add_rms_norm", "decode_swiglu" })
        {
            Assert.Contains(kernel, decode);
            Assert.DoesNotContain(kernel, training);
        }
        Assert.Contains("float_to_bf16", decode);                 // 00_common.cu
        Assert.DoesNotContain("rms_norm_backward_bf16", decode);  // no training kernel in the decode module
        Assert.Contains("rms_norm_backward_bf16", training);
        Assert.Equal([1, 1, 2, 4, 4, 8, 8, 8, 8, 16, 16], new[] { 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16 }.Select(DecodeKernels.FormFor));
    }
}

/// <summary>
/// The decode kernels' sources, compiled for the CPU (tests/gpu/emulate: g++, every GPU thread an OS thread) and run
/// against plain loops: their indexing, segments, NF4 layout, padding, reductions. The GPU checks prove the rest.
/// </summary>
public class DecodeKernelEmulationTests
{
    [Fact]
    public async Task Every_decode_kernel_matches_its_plain_loop_on_the_cpu()
    {
        var start = new System.Diagnostics.ProcessStartInfo("bash", "tests/gpu/emulate/run.sh")
        {
            WorkingDirectory = RaftPipeline.Modeling.Tests.Support.RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}:\n{output}\n{await stderr}");
        Assert.Equal(18, output.Split('\n').Count(l => l.StartsWith("PASS ", StringComparison.Ordinal)));
        Assert.DoesNotContain("FAIL", output);
        Assert.Contains("all emulated kernel checks passed", output);
    }
}
