using RaftPipeline.Cli.Models;
using RaftPipeline.Modeling.Merge;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Safetensors;

namespace RaftPipeline.Cli.Commands.Merge;

/// <summary>The merge verb's behaviour: check the folders, stream the merge, make every written file writable, report what was written.</summary>
public static class MergeCommand
{
    public static int Run(string baseDir, string adapterDir, string outDir, long maxShardBytes, TextWriter output, TextWriter error)
    {
        var models = ModelArguments.Resolve(error, ("--base", baseDir), ("--adapter", adapterDir));
        if (models.Problem is not null)
        {
            error.WriteLine(models.Problem);
            return RaftCli.ExitCodes.BadInput;
        }
        (baseDir, adapterDir) = (models.Paths[0]!, models.Paths[1]!);
        foreach (var (label, dir) in new[] { ("--base", baseDir), ("--adapter", adapterDir) })
            if (!Directory.Exists(dir))
            {
                error.WriteLine($"{label}: folder not found: {dir}");
                return RaftCli.ExitCodes.BadInput;
            }
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
        {
            error.WriteLine($"--out: {outDir} is not empty; choose a new folder");
            return RaftCli.ExitCodes.BadInput;
        }
        TorchRuntime.EnsureInitialized();
        AdapterMerger.Result result;
        try
        {
            result = AdapterMerger.Merge(baseDir, adapterDir, outDir, maxShardBytes);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or SafetensorsFormatException or NotSupportedException)
        {
            error.WriteLine(e.Message);
            return RaftCli.ExitCodes.BadInput;
        }
        // Files copied from a cached artifact keep its read-only mode; the merged folder is the user's to change.
        Core.Store.WritableFiles.MakeWritable(outDir);
        output.WriteLine($"merged {result.MergedKeys.Count} weights into {outDir} ({result.WeightFiles.Count} weight file(s))");
        foreach (var f in result.CopiedFiles) output.WriteLine($"copied {f}");
        return RaftCli.ExitCodes.Ok;
    }
}
