using System.CommandLine;
using System.Text.Json.Nodes;
using RaftPipeline.Cli;
using RaftPipeline.Modeling.Presets;

namespace RaftPipeline.Cli.Tests.Commands;

/// <summary>`raft export`: arguments, exit codes and messages (the files themselves are proven against llama.cpp in
/// RaftPipeline.Export.Tests).</summary>
public sealed class ExportCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("raft-export-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = RaftCli.BuildRoot().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    string Preset()
    {
        var dir = Path.Combine(_dir, "tiny");
        TinyPreset.Write(dir, seed: 3);
        return dir;
    }

    [Fact]
    public void Writes_the_gguf_modelfile_and_manifest_and_says_how_to_load_it_in_ollama()
    {
        var outDir = Path.Combine(_dir, "out");
        var (exit, stdout, stderr) = Run("export", "--model", Preset(), "--type", "f16", "--out", outDir);
        Assert.True(exit == 0, stderr);
        Assert.Contains($"wrote {Path.Combine(outDir, "tiny-f16.gguf")} (f16: {{\"f16\":15,\"f32\":9}})", stdout);
        Assert.Contains($"ollama create NAME -f {Path.Combine(outDir, "Modelfile")}", stdout);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "export.json")))!;
        Assert.Equal("f16", (string)manifest["type"]!);
        Assert.Equal(new FileInfo(Path.Combine(outDir, "tiny-f16.gguf")).Length, (long)manifest["model"]!["bytes"]!);
        Assert.StartsWith("# Written by raft export", File.ReadAllText(Path.Combine(outDir, "Modelfile")));
    }

    [Fact]
    public void Unsupported_type_exits_2_naming_the_supported_types()
    {
        var (exit, _, stderr) = Run("export", "--model", _dir, "--type", "q2_k", "--out", Path.Combine(_dir, "out"));
        Assert.Equal(2, exit);
        Assert.Equal("--type: GGUF type 'q2_k' is not supported (supported: f32, f16, bf16, q8_0, q4_k_m)", stderr.Trim());
    }

    [Fact]
    public void Unsupported_family_exits_2_naming_the_supported_families_and_writes_nothing()
    {
        var model = Preset();
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(model, "config.json")))!;
        config["model_type"] = "qwen3_moe";
        File.WriteAllText(Path.Combine(model, "config.json"), config.ToJsonString());
        var outDir = Path.Combine(_dir, "out");
        var (exit, _, stderr) = Run("export", "--model", model, "--out", outDir);
        Assert.Equal(2, exit);
        Assert.Equal($"{Path.Combine(model, "config.json")}: model_type 'qwen3_moe' cannot be exported (supported: qwen3, qwen2, llama, mistral, phi3, " +
            "gemma2, gemma3_text): the Qwen3-MoE GGUF layout (qwen3moe: stacked ffn_{gate,up,down}_exps, ffn_gate_inp) is not written yet", stderr.Trim());
        Assert.False(Directory.Exists(outDir));
    }
}
