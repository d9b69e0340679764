using RaftPipeline.Core.Spec.Schema;

namespace RaftPipeline.Cli.Commands.Init;

/// <summary>
/// Scaffolds a pipeline folder. Every file is checked before any is written, so a refusal (a file already
/// there, without --force) leaves the folder exactly as it was.
/// </summary>
public static class InitCommand
{
    /// <summary>The files <c>init</c> writes, relative to the target folder, in the order they are listed.</summary>
    public static IReadOnlyList<(string Path, Func<string> Content)> Files { get; } =
    [
        (InitTemplates.PipelineFileName, () => InitTemplates.Pipeline),
        (InitTemplates.SchemaFileName, SpecSchema.ToJsonText),
        (InitTemplates.DataFileName, () => InitTemplates.ExampleData),
        (".gitignore", () => InitTemplates.GitIgnore),
    ];

    public static int Run(string directory, bool force, TextWriter output, TextWriter error)
    {
        var root = Path.GetFullPath(directory);
        if (File.Exists(root))
        {
            error.WriteLine($"{directory}: error: is a file; expected a folder to scaffold into");
            return RaftCli.ExitCodes.BadInput;
        }

        var existing = Files.Select(f => f.Path).Where(p => File.Exists(Path.Combine(root, p)) || Directory.Exists(Path.Combine(root, p))).ToList();
        if (existing.Count > 0 && !force)
        {
            foreach (var path in existing)
                error.WriteLine($"{Path.Combine(directory, path)}: error: already exists; pass --force to overwrite it");
            error.WriteLine("nothing was written.");
            return RaftCli.ExitCodes.BadInput;
        }
        if (existing.FirstOrDefault(p => Directory.Exists(Path.Combine(root, p))) is { } folder)
        {
            error.WriteLine($"{Path.Combine(directory, folder)}: error: is a folder; --force overwrites files only");
            return RaftCli.ExitCodes.BadInput;
        }

        try
        {
            foreach (var (path, content) in Files)
            {
                var full = Path.Combine(root, path);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                // UTF-8 without a BOM: the spec says `encoding: utf-8`, and YAML tools read it unchanged.
                File.WriteAllText(full, content().ReplaceLineEndings("\n"), new System.Text.UTF8Encoding(false));
                output.WriteLine($"{(existing.Contains(path) ? "overwrote" : "wrote")} {Path.Combine(directory, path)}");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{directory}: error: cannot write: {e.Message}");
            return RaftCli.ExitCodes.Failed;
        }

        output.WriteLine();
        output.WriteLine("Next:");
        var cd = Path.GetFullPath(directory) == Path.GetFullPath(".") ? "" : $"cd {directory} && ";
        output.WriteLine($"  {cd}dotnet raft run {InitTemplates.PipelineFileName}");
        return RaftCli.ExitCodes.Ok;
    }
}
