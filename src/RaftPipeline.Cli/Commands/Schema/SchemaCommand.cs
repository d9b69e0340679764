using RaftPipeline.Core.Spec.Schema;

namespace RaftPipeline.Cli.Commands.Schema;

/// <summary>Writes the spec's JSON Schema (or its Markdown reference), generated from the typed parameter records.</summary>
public static class SchemaCommand
{
    public static int Run(string? outPath, bool markdown, TextWriter output, TextWriter error)
    {
        var text = markdown ? SpecReference.Markdown() : SpecSchema.ToJsonText();
        if (outPath is null)
        {
            output.Write(text);
            return RaftCli.ExitCodes.Ok;
        }
        try
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(outPath));
            if (folder is not null) Directory.CreateDirectory(folder);
            File.WriteAllText(outPath, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{outPath}: error: cannot write: {e.Message}");
            return RaftCli.ExitCodes.BadInput;
        }
        output.WriteLine($"wrote {outPath}");
        return RaftCli.ExitCodes.Ok;
    }
}
