using System.Text.Json.Nodes;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Export;
using RaftPipeline.Export.Gguf;
using RaftPipeline.Modeling.Merge;
using RaftPipeline.Stages.Export;
using RaftPipeline.Stages.Tests.Merge;
using RaftPipeline.Stages.Tests.TestSupport;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Tests.Export;

/// <summary>The export stage's wiring (llama.cpp reading the files is proven in RaftPipeline.Export.Tests).</summary>
public class ExportStageExecutorTests(TinyModelFolder tiny) : IClassFixture<TinyModelFolder>
{
    [Fact]
    public async Task Base_and_adapter_merged_first_give_the_same_gguf_as_exporting_the_merged_folder()
    {
        using var temp = new TempFolder();
        var adapter = MergeStageExecutorTests.WriteAdapter(tiny.Path, temp.Combine("adapter"));
        var context = StageContexts.Create(temp, "export", new ExportParameters { Type = "f32", Name = "tiny" },
            new Dictionary<string, IReadOnlyList<string>> { ["model"] = [tiny.Path], ["adapter"] = [adapter] });
        var outcome = await new ExportStageExecutor().RunAsync(context, CancellationToken.None);

        var merged = temp.Combine("merged");
        AdapterMerger.Merge(tiny.Path, adapter, merged, dtype: ScalarType.Float32);
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            File.Copy(Path.Combine(tiny.Path, f), Path.Combine(merged, f), overwrite: true);
        var direct = GgufExport.Run(new GgufExportRequest(merged, temp.Combine("direct"), GgufFileType.F32) { Name = "tiny" });

        Assert.True((bool)outcome.Metrics["merged_adapter"]!);
        Assert.Equal((string)direct.Manifest["model"]!["sha256"]!, (string)outcome.Metrics["model"]!["sha256"]!);
        Assert.True(File.Exists(Path.Combine(context.OutputDirectory, "tiny-f32.gguf")));
        Assert.False(File.Exists(Path.Combine(context.OutputDirectory, "tiny-lora.gguf")));
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(context.OutputDirectory, "export.json")))!;
        Assert.Equal("qwen3", (string)manifest["architecture"]!);
        Assert.Equal("qwen2", (string)manifest["tokenizer"]!["pre"]!);
    }

    [Fact]
    public async Task Adapter_kept_apart_becomes_a_lora_gguf_named_in_the_modelfile()
    {
        using var temp = new TempFolder();
        var adapter = MergeStageExecutorTests.WriteAdapter(tiny.Path, temp.Combine("adapter"));
        var context = StageContexts.Create(temp, "export", new ExportParameters { Type = "q8_0", Merge = false, Name = "tiny" },
            new Dictionary<string, IReadOnlyList<string>> { ["model"] = [tiny.Path], ["adapter"] = [adapter] });
        var outcome = await new ExportStageExecutor().RunAsync(context, CancellationToken.None);

        Assert.False((bool)outcome.Metrics["merged_adapter"]!);
        Assert.Equal(2, (int)outcome.Metrics["adapter"]!["rank"]!);
        Assert.Equal(4.0, (double)outcome.Metrics["adapter"]!["alpha"]!);
        Assert.Equal(2 * 2 * 2, (int)outcome.Metrics["adapter"]!["tensors"]!); // q_proj and down_proj of 2 layers, A and B
        var modelfile = File.ReadAllText(Path.Combine(context.OutputDirectory, "Modelfile"));
        Assert.Contains("FROM ./tiny-q8_0.gguf\nADAPTER ./tiny-lora.gguf\n", modelfile);
        Assert.Contains("PARAMETER stop \"<|im_end|>\"", modelfile);
    }
}
