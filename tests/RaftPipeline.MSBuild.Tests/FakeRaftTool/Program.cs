using RaftPipeline.Cli;
using RaftPipeline.Cli.Commands.Run;
using RaftPipeline.Cli.Console;
using RaftPipeline.Core.Engine;

// `fake-raft run SPEC [STAGE...] [--set K=V]... [--run-dir DIR] [--device D]` and `fake-raft --version`: the real
// tool's run command and output, with a test `load` stage. Every call is appended to tool-calls.log beside the
// spec, so a test can tell whether a build started the tool.
if (args is ["--version"])
{
    Console.WriteLine(RaftCli.Version);
    return 0;
}
if (args.Length < 2 || args[0] != "run")
{
    Console.Error.WriteLine("error: usage: fake-raft run SPEC [STAGE...] [--set K=V]... [--run-dir DIR] [--device D]");
    return 2;
}

var spec = args[1];
var targets = new List<string>();
var overrides = new List<string>();
string? runDir = null;
string? device = null;
for (var i = 2; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--set": overrides.Add(args[++i]); break;
        case "--run-dir": runDir = args[++i]; break;
        case "--device": device = args[++i]; break;
        default: targets.Add(args[i]); break;
    }
}
File.AppendAllText(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(spec))!, "tool-calls.log"), string.Join(' ', args) + "\n");

var command = new RunCommand([new CopyFilesExecutor()], cudaAvailable: () => false);
var plain = new PlainRunRenderer(Console.Out);
return await command.RunAsync(new RunOptions(spec, targets, overrides, runDir, Device: device), Console.Out, Console.Error, run => run(plain), CancellationToken.None);

/// <summary>The test `load`: copies its files into the artifact; a file holding a line "FAIL" makes it throw.</summary>
sealed class CopyFilesExecutor : IStageExecutor
{
    public string Kind => "load";
    public int Version => 3;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        foreach (var file in context.Inputs["files"])
        {
            if (File.ReadLines(file).Any(l => l.Trim() == "FAIL"))
                throw new InvalidDataException($"{Path.GetFileName(file)} asks this test stage to fail");
            File.Copy(file, Path.Combine(context.OutputDirectory, Path.GetFileName(file)));
        }
        context.Progress.Log($"copied {context.Inputs["files"].Count} file(s)");
        return Task.FromResult(StageOutcome.Empty);
    }
}
