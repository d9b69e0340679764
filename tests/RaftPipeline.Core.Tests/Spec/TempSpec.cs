using RaftPipeline.Core.Spec;

namespace RaftPipeline.Core.Tests.Spec;

/// <summary>
/// A spec file in a fresh temporary folder, with the external files it names, so tests exercise the real
/// path checks. Error texts are reported with the folder cut off, so snapshots do not depend on where it lives.
/// </summary>
sealed class TempSpec : IDisposable
{
    public TempSpec(string yaml, params string[] files)
    {
        Folder = Path.Combine(Path.GetTempPath(), "raft-spec-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        foreach (var file in files)
        {
            var full = Path.Combine(Folder, file);
            if (file.EndsWith('/')) Directory.CreateDirectory(full);
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                File.WriteAllText(full, "x");
            }
        }
        File.WriteAllText(SpecPath, yaml);
    }

    public string Folder { get; }

    public string SpecPath => Path.Combine(Folder, "spec.yaml");

    public SpecLoadResult Load(params string[] overrides) => SpecLoader.Load(SpecPath, overrides);

    /// <summary>Loads, asserts it failed, and returns the errors one per line as the CLI prints them, relative to the folder.</summary>
    public string Errors(params string[] overrides)
    {
        var result = Load(overrides);
        Assert.False(result.IsValid, "expected the spec to be rejected");
        return string.Join("\n", result.Errors.Select(e => e.ToString().Replace(Folder + Path.DirectorySeparatorChar, "")));
    }

    public PipelineSpec Valid(params string[] overrides)
    {
        var result = Load(overrides);
        Assert.True(result.IsValid, "expected a valid spec, got:\n" + string.Join("\n", result.Errors));
        return result.Spec;
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); }
        catch (IOException) { } // a leftover temp folder is harmless
    }
}
