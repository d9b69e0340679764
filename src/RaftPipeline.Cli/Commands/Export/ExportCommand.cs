using RaftPipeline.Export;
using RaftPipeline.Export.Gguf;
using RaftPipeline.Modeling.Merge;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Safetensors;

namespace RaftPipeline.Cli.Commands.Export;

/// <summary>The export verb's behaviour: check the arguments, merge when asked (the merge verb's code), write the GGUF
/// file(s), Modelfile and export.json, and say what was written and how to load it in Ollama.</summary>
public static class ExportCommand
{
    public static int Run(string modelDir, string? adapterDir, bool merge, string typeName, string? name, string outDir, TextWriter output, TextWriter error)
    {
        GgufFileType type;
        try
        {
            type = GgufFileTypes.Parse(typeName, "--type");
        }
        catch (ExportException e)
        {
            error.WriteLine(e.Message);
            return RaftCli.ExitCodes.BadInput;
        }
        foreach (var (label, dir) in new[] { ("--model", modelDir), ("--adapter", adapterDir) })
            if (dir is not null && !Directory.Exists(dir))
            {
                error.WriteLine($"{label}: folder not found: {dir}");
                return RaftCli.ExitCodes.BadInput;
            }
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
        {
            error.WriteLine($"--out: {outDir} is not empty; choose a new folder");
            return RaftCli.ExitCodes.BadInput;
        }
        string? scratch = null;
        try
        {
            var source = modelDir;
            if (adapterDir is not null && merge)
            {
                // Checked before the merge spends time: a model export would refuse this family or tokenizer anyway.
                GgufExport.Check(modelDir, type, name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDir))));
                TorchRuntime.EnsureInitialized();
                scratch = Path.Combine(Path.GetTempPath(), $"raft-export-merge-{Guid.NewGuid():N}");
                AdapterMerger.Merge(modelDir, adapterDir, scratch, dtype: TorchSharp.torch.ScalarType.Float32);
                foreach (var file in AdapterMerger.TokenizerFiles.Append("generation_config.json"))
                    if (!File.Exists(Path.Combine(scratch, file)) && File.Exists(Path.Combine(modelDir, file)))
                        File.Copy(Path.Combine(modelDir, file), Path.Combine(scratch, file));
                source = scratch;
                output.WriteLine($"merged {adapterDir} into {modelDir}");
            }
            var result = GgufExport.Run(new GgufExportRequest(source, outDir, type)
            {
                AdapterFolder = merge ? null : adapterDir,
                Name = name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDir))),
            });
            output.WriteLine($"wrote {result.ModelPath} ({GgufFileTypes.Name(type)}: {result.Manifest["type_counts"]!.ToJsonString()})");
            if (result.AdapterPath is not null) output.WriteLine($"wrote {result.AdapterPath} (LoRA adapter)");
            output.WriteLine($"wrote {result.ModelfilePath}; load it in Ollama with: ollama create NAME -f {result.ModelfilePath}");
            output.WriteLine($"wrote {result.ManifestPath}");
            return RaftCli.ExitCodes.Ok;
        }
        catch (Exception e) when (e is ExportException or InvalidDataException or FileNotFoundException or SafetensorsFormatException or NotSupportedException)
        {
            error.WriteLine(e.Message);
            return RaftCli.ExitCodes.BadInput;
        }
        finally
        {
            if (scratch is not null && Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
    }
}
