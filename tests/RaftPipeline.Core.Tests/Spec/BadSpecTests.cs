namespace RaftPipeline.Core.Tests.Spec;

/// <summary>Every kind of spec problem, with the exact message a user sees (snapshots under __snapshots__/).</summary>
public class BadSpecTests
{
    static string ErrorsOf(string yaml, params string[] overrides)
    {
        using var spec = new TempSpec(yaml, SpecTexts.RecipeFiles);
        return spec.Errors(overrides);
    }

    static string Edit(string from, string to)
    {
        Assert.Contains(from, SpecTexts.Recipe);
        return SpecTexts.Recipe.Replace(from, to);
    }

    [Fact]
    public void Unknown_parameter_key_suggests_the_closest()
    {
        var errors = ErrorsOf(Edit("learning_rate: ${vars.lr}", "learning_rat: ${vars.lr}"));
        Assert.Equal(
            "spec.yaml:36:7: error: stages.train.params.learning_rat: unknown key; did you mean 'learning_rate'?",
            errors);
    }

    [Fact]
    public void A_model_stage_needs_a_known_preset_and_takes_no_inputs()
    {
        var yaml = "name: m\nstages:\n  a: { kind: model }\n  b: { kind: model, params: { preset: huge } }\n  c: { kind: model, inputs: { model: a }, params: { preset: tiny } }\n";
        var errors = ErrorsOf(yaml).Split('\n');
        Assert.Equal(3, errors.Length);
        Assert.Contains("stages.a.params.preset: missing required key", errors[0]);
        Assert.Contains("stages.b.params.preset:", errors[1]);
        Assert.Contains("tiny", errors[1]);
        Assert.Contains("stages.c.inputs.model: unknown", errors[2]);
    }

    [Fact]
    public void Unknown_keys_at_every_level()
    {
        var yaml = Edit("seed: 1234", "sed: 1234")
            .Replace("    kind: quantize", "    knd: quantize\n    kind: quantize")
            .Replace("sampling: { top_k: 20 }", "sampling: { top_k: 20, topp: 0.9 }")
            .Replace("encoding: cp949", "encoding: cp949\n      columns: { contxt: ctx }");
        SnapshotRules.Match(ErrorsOf(yaml));
    }

    [Fact]
    public void Wrong_types()
    {
        var yaml = Edit("max_steps: 10", "max_steps: 2.5\n      batch_size: two\n      packing: yes\n      learning_rate: \"2e-4\"")
            .Replace("learning_rate: ${vars.lr}\n      ", "")
            .Replace("target_modules: all-linear", "target_modules: { q: 1 }")
            .Replace("device: cpu", "device: gpu");
        SnapshotRules.Match(ErrorsOf(yaml));
    }

    [Fact]
    public void Out_of_range_values()
    {
        var yaml = Edit("max_steps: 10", "max_steps: 0\n      warmup_ratio: 1.5")
            .Replace("test_size: 0.1", "test_size: 12.5")
            .Replace("target_modules: all-linear", "lora_dropout: 1\n      r: 0")
            .Replace("    kind: quantize", "    kind: quantize\n    params: { block_size: 100 }");
        SnapshotRules.Match(ErrorsOf(yaml));
    }

    [Fact]
    public void Unknown_stage_kind_suggests_the_closest()
    {
        Assert.Equal(
            "spec.yaml:33:11: error: stages.train.kind: unknown stage kind 'trian'; did you mean 'train'?",
            ErrorsOf(Edit("kind: train", "kind: trian")));
    }

    [Fact]
    public void Dangling_reference_suggests_a_stage()
    {
        SnapshotRules.Match(ErrorsOf(Edit("inputs: { model: quantized, adapter: adapter, data: formatted }",
            "inputs: { model: quantised, adapter: adaptor, data: formated }")));
    }

    [Fact]
    public void Cycle_names_its_path()
    {
        var yaml = Edit("inputs: { data: data, model: \"${vars.model}\" }", "inputs: { data: data, model: merged }")
            .Replace("inputs: { model: \"${vars.model}\" }", "inputs: { model: merged }");
        Assert.Equal(
            "spec.yaml:38:3: error: stages.merged: the stages form a cycle: merged -> train -> quantized -> merged; expected each stage to read only stages that do not read it",
            ErrorsOf(yaml));
    }

    [Fact]
    public void Stage_reading_itself_is_a_cycle()
    {
        Assert.Equal(
            "spec.yaml:29:22: error: stages.adapter.inputs.model: the stages form a cycle: adapter -> adapter; a stage cannot read its own artifact",
            ErrorsOf(Edit("inputs: { model: quantized }\n    params:\n      target_modules", "inputs: { model: adapter }\n    params:\n      target_modules")));
    }

    [Fact]
    public void Missing_external_paths()
    {
        var yaml = Edit("files: [data/rag.csv, data/rag_neg.csv]", "files: [data/rag.csv, data/missing.csv]")
            .Replace("model: models/tiny", "model: models/small");
        SnapshotRules.Match(ErrorsOf(yaml));
    }

    [Fact]
    public void Inputs_of_the_wrong_kind_missing_or_unknown()
    {
        var yaml = Edit("inputs: { model: quantized, adapter: adapter, data: formatted }",
                "inputs: { model: quantized, adapter: data, dataset: formatted }")
            .Replace("inputs: { data: formatted, model: \"${vars.model}\" }", "inputs: { data: [formatted, formatted], model: \"${vars.model}\" }");
        SnapshotRules.Match(ErrorsOf(yaml));
    }

    [Fact]
    public void Unknown_variable_suggests_the_closest()
    {
        Assert.Equal(
            "spec.yaml:36:22: error: stages.train.params.learning_rate: unknown variable 'learning_rate' in '${vars.learning_rate}'",
            ErrorsOf(Edit("learning_rate: ${vars.lr}", "learning_rate: ${vars.learning_rate}")));
        Assert.Equal(
            "spec.yaml:18:34: error: stages.formatted.inputs.model: unknown variable 'modle' in '${vars.modle}'; did you mean 'model'?",
            ErrorsOf(Edit("inputs: { data: data, model: \"${vars.model}\" }", "inputs: { data: data, model: \"${vars.modle}\" }")));
    }

    [Fact]
    public void Bad_overrides_name_the_override()
    {
        SnapshotRules.Match(ErrorsOf(SpecTexts.Recipe,
            "train.learning_rat=1e-4",
            "train.learning_rate=fast",
            "trian.epochs=2",
            "seed",
            "device=tpu",
            "vars.lr.x=1",
            "probes.sampling.top_p=[0.9",
            "stats=3"));
    }

    [Fact]
    public void Yaml_syntax_error_has_the_parser_position()
    {
        Assert.Equal(
            "spec.yaml:3:8: error: YAML syntax: While scanning a quoted scalar, found unexpected end of stream.",
            ErrorsOf("name: x\nstages:\n  a: { \"kind: load }\n"));
        SnapshotRules.Match(ErrorsOf(Edit("    kind: load\n", "    kind: load\n   bad_indent: 1\n")));
    }

    [Fact]
    public void Several_errors_are_reported_at_once_in_file_order()
    {
        var yaml = Edit("name: recipe", "name: my recipe")
            .Replace("learning_rate: ${vars.lr}", "learning_rat: ${vars.lr}")
            .Replace("kind: analyze", "kind: analyse")
            .Replace("files: [data/rag.csv, data/rag_neg.csv]", "files: [data/rag.csv, data/nope.csv]")
            .Replace("sampling: { top_k: 20 }", "sampling: { top_k: -1 }");
        SnapshotRules.Match(ErrorsOf(yaml, "train.epochs=many"));
    }

    [Fact]
    public void Missing_required_top_level_and_stage_keys()
    {
        SnapshotRules.Match(ErrorsOf("seed: 1\nstages:\n  a:\n    inputs: {}\n  b:\n    kind: generate\n    inputs: { model: models/tiny }\n    params: { prompts: [ { context: c } ] }\n"));
    }

    [Fact]
    public void Empty_or_non_mapping_specs()
    {
        Assert.Equal("spec.yaml:1:1: error: the spec is empty; expected a mapping with name and stages", ErrorsOf(""));
        Assert.Equal("spec.yaml:1:1: error: expected a mapping with keys name, seed, device, cache, vars, export, stages, got a list of 2", ErrorsOf("- a\n- b\n"));
        Assert.Equal("spec.yaml:1:1: error: stages: missing required key; expected a mapping of stage names to stages", ErrorsOf("name: x\n"));
    }

    [Fact]
    public void Missing_spec_file()
    {
        var result = RaftPipeline.Core.Spec.SpecLoader.Load("/nonexistent/raft/spec.yaml", []);
        Assert.Equal("/nonexistent/raft/spec.yaml: error: cannot read the spec: file not found", Assert.Single(result.Errors).ToString());
    }
}
