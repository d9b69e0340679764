using System.Text.Json.Nodes;
using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Tests.Support;
using RaftPipeline.Modeling.Merge;
using RaftPipeline.Modeling.Safetensors;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RaftPipeline.Export.Tests;

/// <summary>The LoRA adapter alone as a llama.cpp adapter: llama.cpp applies it at load on the base GGUF and must give
/// the tokens our merged model (the repository's merge code, W + alpha/r·B·A) gives.</summary>
public sealed class LoraAdapterTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("qwen3")]
    [InlineData("qwen2")]
    [InlineData("llama")] // q/k rows of B permuted like the base weights
    public void Lora_gguf_applied_by_llama_cpp_gives_the_merged_models_tokens(string family)
    {
        var baseDir = ModelFolders.Folder(family);
        var adapterDir = WriteRandomAdapter(ModelFolders.NewTempDirectory("adapter"), family);
        var mergedDir = ModelFolders.NewTempDirectory("merged");
        AdapterMerger.Merge(baseDir, adapterDir, mergedDir, dtype: ScalarType.Float32);

        var result = GgufExport.Run(new GgufExportRequest(baseDir, ModelFolders.NewTempDirectory("lora-out"), GgufFileType.F32) { AdapterFolder = adapterDir });
        Assert.NotNull(result.AdapterPath);
        var prompt = Prompts.ChatIds(baseDir);
        var merged = Ours.Greedy(mergedDir, prompt, 16);
        var baseOnly = Ours.Greedy(baseDir, prompt, 16);
        using var llama = new LlamaCpp(result.ModelPath, result.AdapterPath);
        var theirs = llama.Greedy(prompt, 16);
        var agreement = Agreement.Measure(Ours.Logits(mergedDir, [.. prompt, .. merged]), llama.Logits([.. prompt, .. merged]));
        output.WriteLine($"{family}: base   {string.Join(' ', baseOnly)}");
        output.WriteLine($"{family}: merged {string.Join(' ', merged)}");
        output.WriteLine($"{family}: llama.cpp base + LoRA {string.Join(' ', theirs)}; {agreement}");
        Assert.NotEqual(baseOnly, merged); // the adapter changes the model, so agreement below means it was applied
        Assert.Equal(merged, theirs);
        // qwen2/llama written by transformers: one near-tie flip in ~90 teacher-forced positions (llama, 89/91).
        Assert.True(agreement.Top1Rate >= 0.97 && agreement.MaxRelativeError < 5e-3, agreement.ToString());

        var modelfile = File.ReadAllText(result.ModelfilePath);
        Assert.Contains($"ADAPTER ./{Path.GetFileName(result.AdapterPath)}", modelfile);
        var adapter = GgufHeader.Read(result.AdapterPath!);
        Assert.Equal("adapter", adapter.Metadata["general.type"]);
        Assert.Equal("lora", adapter.Metadata["adapter.type"]);
        Assert.Equal(8f, adapter.Metadata["adapter.lora.alpha"]);
        var config = RaftPipeline.Modeling.Config.ModelConfigReader.ReadFolder(baseDir);
        Assert.Contains(adapter.Tensors, t => t.Name == "blk.1.attn_q.weight.lora_b" && t.Dims.SequenceEqual(new[] { 4ul, (ulong)(config.NumAttentionHeads * config.HeadDim) }));
        Assert.Contains(adapter.Tensors, t => t.Name == "blk.0.ffn_down.weight.lora_a" && t.Dims.SequenceEqual(new[] { (ulong)config.IntermediateSize, 4ul }));
    }

    /// <summary>The other families with the adapter peft itself wrote beside each transformers fixture (random non-zero
    /// A and B on every projection peft targets: fused qkv_proj / gate_up_proj for phi3; q_proj's B also carries Gemma's
    /// query scale, or for Gemma 3 the scale sits on the q norm).</summary>
    [Theory]
    [InlineData("mistral", "blk.0.attn_q.weight.lora_b", new ulong[] { 4, 64 })]
    [InlineData("phi3", "blk.0.attn_qkv.weight.lora_b", new ulong[] { 4, 64 })]
    [InlineData("gemma2", "blk.0.attn_q.weight.lora_b", new ulong[] { 4, 64 })]
    [InlineData("gemma3_text", "blk.0.attn_q.weight.lora_b", new ulong[] { 4, 64 })]
    [InlineData("llama3", "blk.1.ffn_up.weight.lora_b", new ulong[] { 4, 64 })]
    public void Peft_written_adapter_as_lora_gguf_gives_the_merged_models_tokens(string family, string tensor, ulong[] dims)
    {
        var baseDir = ModelFolders.Folder(family);
        var adapterDir = FixtureFamilies.Adapter(family);
        var mergedDir = ModelFolders.NewTempDirectory("merged");
        AdapterMerger.Merge(baseDir, adapterDir, mergedDir, dtype: ScalarType.Float32);

        var result = GgufExport.Run(new GgufExportRequest(baseDir, ModelFolders.NewTempDirectory("lora-out"), GgufFileType.F32) { AdapterFolder = adapterDir });
        var prompt = Prompts.ChatIds(baseDir);
        var merged = Ours.Greedy(mergedDir, prompt, 16);
        var baseOnly = Ours.Greedy(baseDir, prompt, 16);
        using var llama = new LlamaCpp(result.ModelPath, result.AdapterPath, flashAttention: LlamaCppParityTests.FlashAttentionFor(family));
        var theirs = llama.Greedy(prompt, 16);
        var oursLogits = Ours.Logits(mergedDir, [.. prompt, .. merged]);
        var agreement = Agreement.Measure(oursLogits, llama.Logits([.. prompt, .. merged]));
        output.WriteLine($"{family}: base   {string.Join(' ', baseOnly)}");
        output.WriteLine($"{family}: merged {string.Join(' ', merged)}");
        output.WriteLine($"{family}: llama.cpp base + LoRA {string.Join(' ', theirs)}; {agreement}");
        Assert.NotEqual(baseOnly, merged);
        int same = merged.Zip(theirs).TakeWhile(p => p.First == p.Second).Count();
        if (same < merged.Count)
        {
            // One flip is accepted where our own two candidates are a near tie (phi3: logits 0.2 % of the range apart
            // after 12 tokens), never an early one; everything before it must match.
            var row = oursLogits[prompt.Length - 1 + same];
            double gap = row[merged[same]] - row[theirs[same]], range = row.Max() - row.Min();
            output.WriteLine($"{family}: first difference at token {same}: our logits for the two tokens are {gap:G3} apart ({gap / range:P2} of the range)");
            Assert.True(same >= 8 && gap < 5e-3 * range, $"greedy differs at token {same}, our logit gap {gap:G3} of range {range:G3}");
        }
        Assert.True(agreement.Top1Rate >= 0.98 && agreement.MaxRelativeError < 1e-2, agreement.ToString());
        var adapter = GgufHeader.Read(result.AdapterPath!);
        Assert.Equal("lora", adapter.Metadata["adapter.type"]);
        Assert.Equal(8f, adapter.Metadata["adapter.lora.alpha"]);
        Assert.Contains(adapter.Tensors, t => t.Name == tensor && t.Dims.SequenceEqual(dims));
    }

    /// <summary>A peft-format adapter (r 4, alpha 8, all seven projections) with random A and B, written with the
    /// repository's safetensors writer.</summary>
    static string WriteRandomAdapter(string dir, string family)
    {
        var config = RaftPipeline.Modeling.Config.ModelConfigReader.ReadFolder(ModelFolders.Folder(family));
        string[] targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
        var gen = new torch.Generator(1234, torch.CPU);
        var tensors = new List<(string, Tensor)>();
        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
            foreach (var t in targets)
            {
                var (inF, outF) = t switch
                {
                    "q_proj" => (config.HiddenSize, config.NumAttentionHeads * config.HeadDim),
                    "k_proj" or "v_proj" => (config.HiddenSize, config.NumKeyValueHeads * config.HeadDim),
                    "o_proj" => (config.NumAttentionHeads * config.HeadDim, config.HiddenSize),
                    "down_proj" => (config.IntermediateSize, config.HiddenSize),
                    _ => (config.HiddenSize, config.IntermediateSize),
                };
                var module = $"model.layers.{layer}.{(t.EndsWith("proj") && t is "gate_proj" or "up_proj" or "down_proj" ? "mlp" : "self_attn")}.{t}";
                tensors.Add(($"base_model.model.{module}.lora_A.weight", 0.1f * torch.randn([4, inF], generator: gen)));
                tensors.Add(($"base_model.model.{module}.lora_B.weight", 0.1f * torch.randn([outF, 4], generator: gen)));
            }
        SafetensorsWriter.Write(Path.Combine(dir, "adapter_model.safetensors"), tensors);
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"), new JsonObject
        {
            ["peft_type"] = "LORA", ["r"] = 4, ["lora_alpha"] = 8, ["lora_dropout"] = 0.0, ["bias"] = "none",
            ["target_modules"] = new JsonArray(targets.Select(t => (JsonNode)t).ToArray()), ["use_rslora"] = false, ["use_dora"] = false,
        }.ToJsonString());
        foreach (var (_, t) in tensors) t.Dispose();
        return dir;
    }
}
