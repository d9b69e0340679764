using System.CommandLine;
using System.Text.Json.Nodes;
using RaftPipeline.Cli.Commands.Init;
using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Spec.Schema;

namespace RaftPipeline.Cli.Tests.Init;

/// <summary>One test changes the process's current folder: nothing else may run beside these.</summary>
[CollectionDefinition(nameof(CurrentFolderCollection), DisableParallelization = true)]
public sealed class CurrentFolderCollection;

[Collection(nameof(CurrentFolderCollection))]
public sealed class InitVerbTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), "raft-cli-tests", Guid.NewGuid().ToString("N"));

    string Target => Path.Combine(root, "proj");

    (int Exit, string Out, string Err) Raft(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = RaftCli.BuildRoot().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString().ReplaceLineEndings("\n"), error.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Scaffolds_the_four_files_into_a_new_folder()
    {
        var (exit, output, error) = Raft("init", Target);
        Assert.Equal((0, ""), (exit, error));
        Assert.Equal(
            [".gitignore", "data/example.csv", "pipeline.yaml", "raft.schema.json"],
            Directory.EnumerateFiles(Target, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(Target, f).Replace('\\', '/')).Order(StringComparer.Ordinal));
        Assert.Contains($"wrote {Path.Combine(Target, "pipeline.yaml")}\n", output);
        Assert.DoesNotContain("model init", output); // nothing to do before the first run
    }

    [Fact]
    public void Pipeline_starts_with_the_schema_comment_and_the_schema_is_the_tools_own()
    {
        Assert.Equal(0, Raft("init", Target).Exit);
        var firstLine = File.ReadLines(Path.Combine(Target, "pipeline.yaml")).First();
        Assert.Equal("# yaml-language-server: $schema=./raft.schema.json", firstLine);
        var schema = File.ReadAllText(Path.Combine(Target, "raft.schema.json"));
        Assert.Equal(SpecSchema.ToJsonText(), schema);
        Assert.Equal("RaftPipeline pipeline spec", JsonNode.Parse(schema)!["title"]!.GetValue<string>());
    }

    [Fact]
    public void Scaffolded_pipeline_validates_as_written_with_its_own_model_stage()
    {
        Assert.Equal(0, Raft("init", Target).Exit);
        var result = SpecLoader.Load(Path.Combine(Target, "pipeline.yaml"));
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(
            ["base:model", "data:load", "formatted:format", "stats:analyze", "quantized:quantize", "adapter:lora", "train:train", "merged:merge", "probes:generate", "scores:eval"],
            result.Spec.Stages.Select(s => $"{s.Name}:{s.Kind}"));
        var load = Assert.IsType<StageInput.FromPath>(Assert.Single(result.Spec.Stages[1].Inputs["files"]));
        Assert.Equal(Path.Combine(Target, "data", "example.csv"), load.Path);
        // The model every stage uses is the base stage's artifact, through vars.model.
        var quantize = result.Spec.Stages.Single(s => s.Name == "quantized");
        Assert.Equal("base", Assert.IsType<StageInput.FromStage>(Assert.Single(quantize.Inputs["model"])).Stage);
    }

    [Fact]
    public void Example_data_has_the_recipe_columns_and_style()
    {
        Assert.Equal(0, Raft("init", Target).Exit);
        var lines = File.ReadAllLines(Path.Combine(Target, "data", "example.csv"), System.Text.Encoding.UTF8);
        Assert.Equal("context,question,cot", lines[0]);
        var rows = lines.Skip(1).ToList();
        Assert.True(rows.Count >= 6, $"expected at least 6 example rows, got {rows.Count}");
        // Each row: three fields (a quoted context, a question, an answer); answers are rude quotes or the refusal.
        Assert.All(rows, r => Assert.True(
            r.EndsWith(",내가 그딴 걸 어떻게 알아?", StringComparison.Ordinal) || r.Contains(",\"그것도 몰라? 여기", StringComparison.Ordinal),
            $"row not in the recipe's style: {r}"));
        Assert.Contains(rows, r => r.EndsWith(",내가 그딴 걸 어떻게 알아?", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("그것도 몰라?", StringComparison.Ordinal));
    }

    [Fact]
    public void Gitignore_covers_runs_and_the_cache()
    {
        Assert.Equal(0, Raft("init", Target).Exit);
        var lines = File.ReadAllLines(Path.Combine(Target, ".gitignore"));
        Assert.Contains("runs/", lines);
        Assert.Contains(".raft-cache/", lines);
    }

    [Fact]
    public void Refuses_to_overwrite_and_writes_nothing()
    {
        Directory.CreateDirectory(Target);
        File.WriteAllText(Path.Combine(Target, "pipeline.yaml"), "mine");
        File.WriteAllText(Path.Combine(Target, ".gitignore"), "bin/");

        var (exit, output, error) = Raft("init", Target);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Equal(
            $"{Path.Combine(Target, "pipeline.yaml")}: error: already exists; pass --force to overwrite it\n" +
            $"{Path.Combine(Target, ".gitignore")}: error: already exists; pass --force to overwrite it\n" +
            "nothing was written.\n",
            error);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(Target, "pipeline.yaml")));
        Assert.Equal("bin/", File.ReadAllText(Path.Combine(Target, ".gitignore")));
        Assert.False(File.Exists(Path.Combine(Target, "raft.schema.json")));
        Assert.False(Directory.Exists(Path.Combine(Target, "data")));
    }

    [Fact]
    public void Force_overwrites_and_says_so()
    {
        Directory.CreateDirectory(Target);
        File.WriteAllText(Path.Combine(Target, "pipeline.yaml"), "mine");

        var (exit, output, _) = Raft("init", Target, "--force");

        Assert.Equal(0, exit);
        Assert.Contains($"overwrote {Path.Combine(Target, "pipeline.yaml")}\n", output);
        Assert.Contains($"wrote {Path.Combine(Target, ".gitignore")}\n", output);
        Assert.Equal(InitTemplates.Pipeline.ReplaceLineEndings("\n"), File.ReadAllText(Path.Combine(Target, "pipeline.yaml")));
    }

    [Fact]
    public void Without_a_folder_argument_it_scaffolds_the_current_folder()
    {
        Directory.CreateDirectory(Target);
        var before = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = Target;
            var (exit, output, _) = Raft("init");
            Assert.Equal(0, exit);
            Assert.Contains("  dotnet raft run pipeline.yaml\n", output);
        }
        finally
        {
            Environment.CurrentDirectory = before;
        }
        Assert.True(File.Exists(Path.Combine(Target, "pipeline.yaml")));
    }

    /// <summary>The first run works as written: `init`, then `run` with no spec and no other command (about 12 s of CPU).</summary>
    [Fact]
    public void Init_then_run_with_nothing_else_trains_and_merges()
    {
        Directory.CreateDirectory(Target);
        var before = Environment.CurrentDirectory;
        (int Exit, string Out, string Err) run;
        try
        {
            Environment.CurrentDirectory = Target;
            Assert.Equal(0, Raft("init").Exit);
            run = Raft("run");
        }
        finally
        {
            Environment.CurrentDirectory = before;
        }
        Assert.True(run.Exit == 0, run.Out + run.Err);
        Assert.Contains("[1/10] base: ran", run.Out);
        Assert.Contains("[7/10] train: ran", run.Out);
        Assert.Contains("succeeded: 10 ran, 0 reused", run.Out);
        var runFolder = Assert.Single(Directory.GetDirectories(Path.Combine(Target, "runs", "my-pipeline")));
        var lockFile = Core.Runs.RunLock.Read(Path.Combine(runFolder, Core.Runs.RunLock.FileName));
        Assert.True(File.Exists(Path.Combine(lockFile.Stage("merged")!.Artifact!, "config.json")));
    }

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }
}
