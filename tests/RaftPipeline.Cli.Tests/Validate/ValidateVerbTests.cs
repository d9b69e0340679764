using System.CommandLine;
using RaftPipeline.Cli;

namespace RaftPipeline.Cli.Tests.Validate;

public sealed class ValidateVerbTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), "raft-cli-tests", Guid.NewGuid().ToString("N"));

    public ValidateVerbTests()
    {
        Directory.CreateDirectory(Path.Combine(folder, "models", "tiny"));
        File.WriteAllText(Path.Combine(folder, "spec.yaml"), """
            name: cli
            stages:
              q:
                kind: quantize
                inputs: { model: models/tiny }
              adapter:
                kind: lora
                inputs: { model: q }
                params: { r: 8 }
            """);
    }

    (int Exit, string Out, string Err) Raft(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = RaftCli.BuildRoot().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString().ReplaceLineEndings("\n"), error.ToString().ReplaceLineEndings("\n").Replace(folder + "/", ""));
    }

    string Spec => Path.Combine(folder, "spec.yaml");

    [Fact]
    public void Valid_spec_prints_ok_and_exits_0()
    {
        var (exit, output, error) = Raft("validate", Spec);
        Assert.Equal((0, "ok: 2 stages\n", ""), (exit, output, error));
    }

    [Fact]
    public void Errors_go_to_stderr_with_exit_code_2()
    {
        File.WriteAllText(Spec, File.ReadAllText(Spec).Replace("r: 8", "rank: 8").Replace("kind: quantize", "kind: quantise"));
        var (exit, output, error) = Raft("validate", Spec);
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Equal(
            "spec.yaml:4:11: error: stages.q.kind: unknown stage kind 'quantise'; did you mean 'quantize'?\n" +
            "spec.yaml:9:15: error: stages.adapter.params.rank: unknown key; expected one of r, lora_alpha, lora_dropout, target_modules, target_parameters, use_rslora, init\n" +
            "2 errors; nothing was run.\n",
            error);
    }

    [Fact]
    public void Set_overrides_are_validated_and_named()
    {
        Assert.Equal((0, "ok: 2 stages\n", ""), Raft("validate", Spec, "--set", "adapter.r=16", "--set", "seed=3"));
        var (exit, _, error) = Raft("validate", Spec, "--set", "adapter.r=sixteen", "--set", "adapter.alpha=16");
        Assert.Equal(2, exit);
        Assert.Equal(
            "--set adapter.r: error: stages.adapter.params.r: expected an integer, got 'sixteen'\n" +
            "--set adapter.alpha: error: stages.adapter.params.alpha: unknown key; did you mean 'lora_alpha'?\n" +
            "2 errors; nothing was run.\n",
            error);
    }

    [Fact]
    public void Missing_spec_file_exits_2()
    {
        var (exit, _, error) = Raft("validate", Path.Combine(folder, "nope.yaml"));
        Assert.Equal(2, exit);
        Assert.Equal("nope.yaml: error: cannot read the spec: file not found\n1 error; nothing was run.\n", error);
    }

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (IOException) { } // a leftover temp folder is harmless
    }
}
