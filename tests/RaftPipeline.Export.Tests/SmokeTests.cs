using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Tests.Support;
using Xunit.Abstractions;

namespace RaftPipeline.Export.Tests;

public sealed class SmokeTests(ITestOutputHelper output)
{
    [Fact]
    public void Preset_f32_loads_in_llama_cpp()
    {
        var outDir = ModelFolders.NewTempDirectory("smoke");
        var result = GgufExport.Run(new GgufExportRequest(ModelFolders.Preset, outDir, GgufFileType.F32) { Name = "tiny" });
        using var llama = new LlamaCpp(result.ModelPath);
        foreach (var (k, v) in llama.Metadata.Where(kv => !kv.Key.StartsWith("tokenizer.ggml.t") && !kv.Key.StartsWith("tokenizer.ggml.m")))
            output.WriteLine($"{k} = {(v.Length > 80 ? v[..80] : v)}");
        int[] prompt = [151644, 872, 198, 9707, 151645, 198, 151644, 77091, 198];
        var ours = Ours.Greedy(ModelFolders.Preset, prompt, 12);
        var theirs = llama.Greedy(prompt, 12);
        output.WriteLine($"ours   {string.Join(' ', ours)}");
        output.WriteLine($"theirs {string.Join(' ', theirs)}");
        Assert.Equal(ours, theirs);
    }
}
