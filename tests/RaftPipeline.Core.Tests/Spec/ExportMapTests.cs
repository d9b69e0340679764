namespace RaftPipeline.Core.Tests.Spec;

/// <summary>The top-level <c>export:</c> map (stage → folder to copy its artifact to), not a stage of kind export.</summary>
public class ExportMapTests
{
    const string Pipeline = "name: e\nvars: { out: dist }\nstages:\n  base: { kind: model, params: { preset: tiny } }\n";

    [Fact]
    public void Folders_are_resolved_against_the_spec_s_folder_with_variables_substituted()
    {
        using var spec = new TempSpec(Pipeline + "export:\n  base: \"${vars.out}/base-model\"\n");
        var loaded = spec.Load();
        Assert.True(loaded.IsValid, string.Join("\n", loaded.Errors));
        Assert.Equal(Path.Combine(spec.Folder, "dist", "base-model"), loaded.Spec!.Exports["base"]);
        Assert.Single(loaded.Spec!.Exports);
    }

    [Fact]
    public void No_export_key_means_no_exports()
    {
        using var spec = new TempSpec(Pipeline);
        Assert.Empty(spec.Load().Spec!.Exports);
    }

    [Fact]
    public void An_unknown_stage_or_a_value_that_is_no_folder_is_an_error_at_its_line()
    {
        using var spec = new TempSpec(Pipeline + "export:\n  bse: out/a\n  base: [a, b]\n");
        var errors = spec.Errors().Split('\n');
        Assert.Equal(2, errors.Length);
        Assert.Equal("spec.yaml:6:3: error: export.bse: 'bse' is no stage of this spec; did you mean 'base'?", errors[0]);
        Assert.Equal("spec.yaml:7:9: error: export.base: expected a folder path (relative to the spec file), got a list of 2", errors[1]);
        using var scalar = new TempSpec(Pipeline + "export: out\n");
        Assert.Equal("spec.yaml:5:9: error: export: expected a mapping of stage names to folders (e.g. merged: out/merged), got 'out'", scalar.Errors());
    }
}
