using RaftPipeline.Core.Spec;

namespace RaftPipeline.Cli.Commands.Validate;

/// <summary>Loads and validates a spec; prints "ok: N stages" or every error (one per line, file:line:column) to stderr.</summary>
public static class ValidateCommand
{
    public static int Run(string specPath, IReadOnlyList<string> overrides, TextWriter output, TextWriter error)
    {
        var result = SpecLoader.Load(specPath, overrides);
        if (!result.IsValid)
        {
            foreach (var e in result.Errors) error.WriteLine(e);
            error.WriteLine($"{result.Errors.Count} error{(result.Errors.Count == 1 ? "" : "s")}; nothing was run.");
            return RaftCli.ExitCodes.BadInput;
        }
        var count = result.Spec.Stages.Count;
        output.WriteLine($"ok: {count} stage{(count == 1 ? "" : "s")}");
        return RaftCli.ExitCodes.Ok;
    }
}
