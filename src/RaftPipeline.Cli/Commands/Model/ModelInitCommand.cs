using RaftPipeline.Modeling.Presets;

namespace RaftPipeline.Cli.Commands.Model;

/// <summary>The behaviour of `raft model init`.</summary>
public static class ModelInitCommand
{
    public static int Run(string preset, string output, ulong seed, TextWriter stdout, TextWriter stderr)
    {
        if (preset != TinyPreset.Name)
        {
            stderr.WriteLine($"unknown preset '{preset}' (available: {TinyPreset.Name})");
            return RaftCli.ExitCodes.BadInput;
        }
        var files = TinyPreset.Write(output, seed);
        stdout.WriteLine($"wrote the '{preset}' preset (seed {seed}) to {Path.GetFullPath(output)}:");
        foreach (var f in files) stdout.WriteLine($"  {Path.GetFileName(f)}");
        return RaftCli.ExitCodes.Ok;
    }
}
