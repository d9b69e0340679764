using System.Text.Json.Nodes;
using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Tests.Support;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Safetensors;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RaftPipeline.Export.Tests;

/// <summary>
/// Weights written by transformers itself (tests/RaftPipeline.Modeling.Tests/Fixtures/qwen3_parity: a Qwen2 with q/k/v
/// biases and a Llama, vocab 512, fp32, their config.json in the file's metadata; see generate.py there) through our
/// GGUF writer into llama.cpp, compared with what transformers computed and recorded: its greedy continuation
/// (generate, do_sample=False, 20 new tokens) and its logits for the 40-token prompt.
/// </summary>
public sealed class TransformersWeightsTests(ITestOutputHelper output)
{
    static readonly string FixtureDir = Path.Combine(RepoRoot(), "tests", "RaftPipeline.Modeling.Tests", "Fixtures", "qwen3_parity");

    [Theory]
    [InlineData("qwen2")]
    [InlineData("llama")]
    public void Transformers_weights_exported_to_f32_give_transformers_greedy_tokens_and_logits(string family)
    {
        TorchRuntime.EnsureInitialized();
        var folder = ModelFolders.NewTempDirectory($"hf-{family}");
        var weights = Path.Combine(FixtureDir, $"{family}.safetensors");
        using (var file = SafetensorsFile.Open(weights))
            File.WriteAllText(Path.Combine(folder, "config.json"), JsonNode.Parse(file.Metadata["config_json"])!.ToJsonString());
        File.Copy(weights, Path.Combine(folder, "model.safetensors"));
        // A 512-token tokenizer of the family's shape, so the GGUF is complete; the comparison runs on token ids.
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(ModelFolders.Folder(family), f), Path.Combine(folder, f));

        var result = GgufExport.Run(new GgufExportRequest(folder, ModelFolders.NewTempDirectory(family), GgufFileType.F32));
        using var expected = SafetensorsFile.Open(Path.Combine(FixtureDir, "expected.safetensors"));
        var prompt = expected.Read($"{family}/long/input_ids").data<long>().Select(v => (int)v).ToArray();
        var greedy = expected.Read($"{family}/long/greedy").data<long>().Select(v => (int)v).ToArray()[prompt.Length..];
        using var hfLogits = expected.Read($"{family}/long/logits").to(ScalarType.Float32);
        var flat = hfLogits.data<float>().ToArray();
        var transformers = Enumerable.Range(0, prompt.Length).Select(t => flat.AsSpan(t * 512, 512).ToArray()).ToArray();

        using var llama = new LlamaCpp(result.ModelPath);
        var theirs = llama.Greedy(prompt, greedy.Length);
        var agreement = Agreement.Measure(transformers, llama.Logits(prompt));
        output.WriteLine($"{family}: transformers {string.Join(' ', greedy)}");
        output.WriteLine($"{family}: llama.cpp    {string.Join(' ', theirs)}; logits {agreement}");
        Assert.Equal(greedy, theirs);
        // Prompt ids are random, so some positions are near-ties (measured: qwen2 39/40, one flip at a 0.2 % logit error).
        Assert.True(agreement.Top1Rate >= 0.95, agreement.ToString());
        Assert.True(agreement.MaxRelativeError < 5e-3, agreement.ToString());
    }

    /// <summary>The fixture's Qwen3 (bf16, two shards, head_dim 16 != hidden / heads, tied embeddings) with the real Qwen3
    /// tokenizer: llama.cpp's tokenizer gives transformers' ids for the recorded texts (Korean, English, a rendered
    /// chat), and the F32 GGUF continues the chat as transformers did.</summary>
    [Fact]
    public void Transformers_qwen3_with_the_real_tokenizer_gives_transformers_ids_and_greedy_tokens()
    {
        TorchRuntime.EnsureInitialized();
        var folder = ModelFolders.NewTempDirectory("hf-qwen3");
        foreach (var f in Directory.GetFiles(FixtureDir).Where(f => Path.GetFileName(f) is "config.json" or "model.safetensors.index.json"
                     || Path.GetFileName(f).StartsWith("model-", StringComparison.Ordinal)))
            File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
        RaftPipeline.Text.Assets.EmbeddedAssets.WriteQwen3Tokenizer(folder);

        var result = GgufExport.Run(new GgufExportRequest(folder, ModelFolders.NewTempDirectory("qwen3"), GgufFileType.F32));
        using var expected = SafetensorsFile.Open(Path.Combine(FixtureDir, "expected.safetensors"));
        var cases = JsonNode.Parse(File.ReadAllText(Path.Combine(FixtureDir, "cases.json")))!["qwen3"]!["texts"]!.AsObject();
        using var llama = new LlamaCpp(result.ModelPath);
        foreach (var (name, text) in cases)
        {
            var ids = expected.Read($"qwen3/{name}/input_ids").data<long>().Select(v => (int)v).ToArray();
            Assert.Equal(ids, llama.Tokenize((string)text!, addBos: false, special: true));
        }

        var prompt = expected.Read("qwen3/chat/input_ids").data<long>().Select(v => (int)v).ToArray();
        var greedy = expected.Read("qwen3/chat/greedy").data<long>().Select(v => (int)v).ToArray()[prompt.Length..];
        var theirs = llama.Greedy(prompt, greedy.Length);
        using var last = expected.Read("qwen3/chat/last_logits").to(ScalarType.Float32);
        var agreement = Agreement.Measure([last.data<float>().ToArray()], [llama.Logits(prompt)[^1]]);
        output.WriteLine($"qwen3: transformers {string.Join(' ', greedy)}");
        output.WriteLine($"qwen3: llama.cpp    {string.Join(' ', theirs)}; last-position logits {agreement}");
        Assert.Equal(greedy, theirs);
        Assert.Equal(1, agreement.Top1Agree);
        Assert.True(agreement.MaxRelativeError < 5e-3, agreement.ToString());
    }

    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RaftPipeline.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("RaftPipeline.sln not found above the test output folder");
    }
}
