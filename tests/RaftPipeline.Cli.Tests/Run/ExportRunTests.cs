using System.Text.Json;
using RaftPipeline.Cli.Tests.Generate;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Store;

namespace RaftPipeline.Cli.Tests.Run;

/// <summary>
/// The "done when": <c>raft run --export merged=out/</c> leaves a writable folder that <c>raft generate --model
/// out/</c> loads, with the real stages (tiny preset → fresh LoRA → merge) through the real command line.
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class ExportRunTests
{
    const string Spec = """
        name: outputs
        seed: 3
        device: cpu
        stages:
          base:
            kind: model
            params: { preset: tiny }
          adapter:
            kind: lora
            inputs: { model: base }
            params: { r: 2, lora_alpha: 4, target_modules: [q_proj, v_proj] }
          merged:
            kind: merge
            inputs: { model: base, adapter: adapter }
            params: { dtype: fp32 }
        export:
          adapter: dist/adapter
        """;

    static bool Writable(string path) =>
        OperatingSystem.IsWindows()
            ? !File.GetAttributes(path).HasFlag(FileAttributes.ReadOnly)
            : File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserWrite);

    static string[] Generated(string stdout)
    {
        using var doc = JsonDocument.Parse(stdout.Trim());
        return [.. doc.RootElement.GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt32().ToString())];
    }

    [Fact]
    public void Run_export_merged_leaves_a_writable_folder_that_generate_loads_and_the_run_folder_links_every_artifact()
    {
        using var p = new CliPipeline(Spec);
        var outDir = Path.Combine(p.Folder, "out") + Path.DirectorySeparatorChar;
        var run = TinyModelFixture.Raft("run", p.SpecPath, "--export", $"merged={outDir}");
        Assert.True(run.Exit == 0, run.Out + run.Err);
        var runFolder = Assert.Single(Directory.GetDirectories(Path.Combine(p.Folder, "runs", "outputs")));
        var lockFile = RunLock.Read(Path.Combine(runFolder, RunLock.FileName));
        var store = new ArtifactStore(p.Cache);
        var merged = store.TryGet(lockFile.Stage("merged")!.Key!)!;
        Assert.Contains($"exported merged ({merged.Key[..12]}, {merged.Manifest.Files.Count} files", run.Out);
        Assert.Contains($"exported adapter (", run.Out); // the spec's own export: map

        // Every file of the artifact, byte for byte, and writable.
        var files = Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(outDir, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(merged.Manifest.Files.Select(f => f.Path), files);
        Assert.Contains("adapter/adapter_config.json", files);
        Assert.Contains("README.md", files);
        foreach (var f in merged.Manifest.Files)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(merged.DataDirectory, f.Path)), File.ReadAllBytes(Path.Combine(outDir, f.Path)));
            Assert.True(Writable(Path.Combine(outDir, f.Path)), f.Path);
        }
        Assert.True(File.Exists(Path.Combine(p.Folder, "dist", "adapter", "adapter_config.json")));
        Assert.True(Writable(Path.Combine(p.Folder, "dist", "adapter", "adapter_config.json")));

        // The run folder links each stage to its artifact; the merged card's adapter/ is really beside it there.
        foreach (var stage in new[] { "base", "adapter", "merged" })
            Assert.Equal(store.TryGet(lockFile.Stage(stage)!.Key!)!.DataDirectory, RunFolder.ArtifactOf(Path.Combine(runFolder, "stages", stage)));
        var card = File.ReadAllText(Path.Combine(runFolder, "stages", "merged", "artifact", "README.md"));
        Assert.Contains("The adapter alone is in `adapter/`.", card);
        Assert.True(File.Exists(Path.Combine(runFolder, "stages", "merged", "artifact", "adapter", "adapter_config.json")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(runFolder, "stages", "merged"), "*.md"));
        // The report lists each stage's own files, not the artifact's behind the link.
        var report = File.ReadAllText(Path.Combine(runFolder, "report.md"));
        Assert.DoesNotContain("/artifact/", report);

        // The exported folder loads, and answers exactly as the stage's artifact named by SPEC:STAGE does.
        string[] args = ["--prompt", "Hello", "--greedy", "--max-new-tokens", "4", "--device", "cpu", "--json"];
        var fromFolder = TinyModelFixture.Raft(["generate", "--model", outDir, .. args]);
        Assert.True(fromFolder.Exit == 0, fromFolder.Err);
        var fromSpec = TinyModelFixture.Raft(["generate", "--model", $"{p.SpecPath}:merged", .. args]);
        Assert.True(fromSpec.Exit == 0, fromSpec.Err);
        Assert.Equal(4, Generated(fromFolder.Out).Length);
        Assert.Equal(Generated(fromFolder.Out), Generated(fromSpec.Out));

        // Run again: everything is reused, the recorded export folder is replaced without --force; an unrelated one is refused.
        File.WriteAllText(Path.Combine(outDir, "my-notes.txt"), "edited");
        var again = TinyModelFixture.Raft("run", p.SpecPath, "--export", $"merged={outDir}");
        Assert.True(again.Exit == 0, again.Out + again.Err);
        Assert.False(File.Exists(Path.Combine(outDir, "my-notes.txt")));
        var unrelated = Path.Combine(p.Folder, "mine");
        Directory.CreateDirectory(unrelated);
        File.WriteAllText(Path.Combine(unrelated, "keep.txt"), "mine");
        var refused = TinyModelFixture.Raft("run", p.SpecPath, "--export", $"merged={unrelated}");
        Assert.Equal(RaftCli.ExitCodes.Failed, refused.Exit);
        Assert.Contains("is not empty and this cache did not export to it", refused.Err);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(unrelated, "keep.txt")));
        Assert.Equal(0, TinyModelFixture.Raft("run", p.SpecPath, "--export", $"merged={unrelated}", "--force").Exit);
        Assert.True(File.Exists(Path.Combine(unrelated, "config.json")));

        // merge --out from the cache's read-only files leaves writable files too.
        var mergedOut = Path.Combine(p.Folder, "merged-by-hand");
        var merge = TinyModelFixture.Raft("merge", "--base", store.TryGet(lockFile.Stage("base")!.Key!)!.DataDirectory,
            "--adapter", store.TryGet(lockFile.Stage("adapter")!.Key!)!.DataDirectory, "--out", mergedOut);
        Assert.True(merge.Exit == 0, merge.Err);
        var written = Directory.EnumerateFiles(mergedOut, "*", SearchOption.AllDirectories).ToList();
        Assert.Contains(written, f => f.EndsWith("tokenizer.json", StringComparison.Ordinal));
        Assert.All(written, f => Assert.True(Writable(f), f));
    }

    [Fact]
    public void Model_spec_stage_says_when_the_stage_is_not_built_or_holds_an_adapter_and_export_checks_its_stage()
    {
        using var p = new CliPipeline(Spec);
        var notBuilt = TinyModelFixture.Raft("generate", "--model", $"{p.SpecPath}:merged", "--prompt", "x", "--device", "cpu");
        Assert.Equal(RaftCli.ExitCodes.BadInput, notBuilt.Exit);
        Assert.Contains($"raft generate: --model {p.SpecPath}:merged: stage 'merged' (merge, key ", notBuilt.Err);
        Assert.Contains($"is not built in {p.Cache}; build it first: dotnet raft run {p.SpecPath} merged", notBuilt.Err);

        var unknown = TinyModelFixture.Raft("chat", "--model", $"{p.SpecPath}:merge", "--device", "cpu");
        Assert.Equal(RaftCli.ExitCodes.BadInput, unknown.Exit);
        Assert.Contains("unknown stage 'merge'; did you mean 'merged'?", unknown.Err);

        Assert.Equal(0, TinyModelFixture.Raft("run", p.SpecPath, "adapter").Exit);
        var adapter = TinyModelFixture.Raft("generate", "--model", $"{p.SpecPath}:adapter", "--prompt", "x", "--device", "cpu");
        Assert.Equal(RaftCli.ExitCodes.BadInput, adapter.Exit);
        Assert.Contains("stage 'adapter' (lora) holds a LoRA adapter, not a model; give it as --adapter ", adapter.Err);
        var swapped = TinyModelFixture.Raft("generate", "--model", $"{p.SpecPath}:base", "--adapter", $"{p.SpecPath}:base", "--prompt", "x", "--device", "cpu");
        Assert.Equal(RaftCli.ExitCodes.BadInput, swapped.Exit);
        Assert.Contains($"--adapter {p.SpecPath}:base: stage 'base' (model) holds a model, not a LoRA adapter; give it as --model", swapped.Err);
        var both = TinyModelFixture.Raft("generate", "--model", $"{p.SpecPath}:base", "--adapter", $"{p.SpecPath}:adapter",
            "--prompt", "x", "--greedy", "--max-new-tokens", "2", "--device", "cpu", "--json");
        Assert.True(both.Exit == 0, both.Err);
        Assert.Equal(2, Generated(both.Out).Length);

        var badExport = TinyModelFixture.Raft("run", p.SpecPath, "adapter", "--export", "merged=out");
        Assert.Equal(RaftCli.ExitCodes.BadInput, badExport.Exit);
        Assert.Contains("--export merged=out: stage 'merged' is not part of this run", badExport.Err);
        Assert.Contains("nothing was run.", badExport.Err);
        var malformed = TinyModelFixture.Raft("run", p.SpecPath, "--export", "merged");
        Assert.Equal(RaftCli.ExitCodes.BadInput, malformed.Exit);
        Assert.Contains("--export merged: expected STAGE=DIR", malformed.Err);
    }
}
