using RaftPipeline.Core.Spec;
using RaftPipeline.Core.Spec.Stages;

namespace RaftPipeline.Core.Tests.Spec;

public class GoodSpecTests
{
    [Fact]
    public void Recipe_binds_to_typed_records_with_defaults_filled()
    {
        using var temp = new TempSpec(SpecTexts.Recipe, SpecTexts.RecipeFiles);
        var spec = temp.Valid();

        Assert.Equal("recipe", spec.Name);
        Assert.Equal(1234, spec.Seed);
        Assert.Equal(DeviceKind.Cpu, spec.Device);
        Assert.Equal(Path.Combine(temp.Folder, ".raft-cache"), spec.CacheDirectory);
        Assert.Equal(temp.SpecPath, spec.SourceFile);
        Assert.Equal(["data", "formatted", "stats", "quantized", "adapter", "train", "merged", "probes", "scores"], spec.Stages.Select(s => s.Name));

        var load = Assert.IsType<LoadParameters>(spec.Stages[0].Parameters);
        Assert.Equal(TextEncoding.Cp949, load.Encoding);
        Assert.Equal(0.1, load.TestSize);
        Assert.Equal(new ColumnMapping { Context = "context", Question = "question", Answer = "cot" }, load.Columns);
        Assert.True(load.Shuffle);
        Assert.Null(load.Limit);

        var format = Assert.IsType<FormatParameters>(spec.Stages[1].Parameters);
        Assert.Equal("Answer rudely.", format.SystemPrompt);
        Assert.Equal("Context: {context}\n---\nQuestion: {question}", format.UserTemplate);
        Assert.Equal("내가 그딴 걸 어떻게 알아?", format.Raft.Refusal);

        var lora = Assert.IsType<LoraParameters>(spec.Stages[4].Parameters);
        Assert.Equal(["all-linear"], lora.TargetModules); // a single value where a list is allowed
        Assert.Equal(4, lora.R);

        var train = Assert.IsType<TrainParameters>(spec.Stages[5].Parameters);
        Assert.Equal(2e-4, train.LearningRate); // from ${vars.lr}, typed as a number
        Assert.Equal(10, train.MaxSteps);
        Assert.Equal(LrScheduler.Cosine, train.LrScheduler);
        Assert.Equal(OptimizerKind.Adamw8bit, train.Optimizer);
        Assert.Equal(GradientCheckpointing.Auto, train.GradientCheckpointing);
        Assert.Null(train.ResponseTemplate); // absent: the train stage uses the chat template's answer opener

        var generate = Assert.IsType<GenerateParameters>(spec.Stages[7].Parameters);
        Assert.Equal(2, generate.Prompts.Count);
        Assert.Equal(new ProbePrompt { Name = "in-domain", Context = "서울은 한국의 수도이다.", Question = "한국의 수도는?" }, generate.Prompts[0]);
        Assert.Equal("", generate.Prompts[1].System);
        Assert.Equal(20, generate.Sampling.TopK);
        Assert.Equal(0.95, generate.Sampling.TopP);

        var eval = Assert.IsType<EvalParameters>(spec.Stages[8].Parameters);
        Assert.True(eval.Sampling.Greedy);
        Assert.Equal("그것도 몰라?", eval.Opening);
    }

    [Fact]
    public void Every_stage_parameter_after_binding()
    {
        using var temp = new TempSpec(SpecTexts.Recipe, SpecTexts.RecipeFiles);
        var spec = temp.Valid();
        var json = new System.Text.Json.Nodes.JsonObject(spec.Stages.Select(s =>
            KeyValuePair.Create(s.Name, (System.Text.Json.Nodes.JsonNode?)SpecJson.Parameters(s.Parameters))));
        SnapshotRules.Match(json.ToJsonString(new System.Text.Json.JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }));
    }

    [Fact]
    public void Inputs_resolve_to_stages_or_absolute_paths()
    {
        using var temp = new TempSpec(SpecTexts.Recipe, SpecTexts.RecipeFiles);
        var spec = temp.Valid();
        var data = spec.Stages.Single(s => s.Name == "data");
        Assert.Equal(
            [new StageInput.FromPath(Path.Combine(temp.Folder, "data", "rag.csv")), new StageInput.FromPath(Path.Combine(temp.Folder, "data", "rag_neg.csv"))],
            data.Inputs["files"]);
        var formatted = spec.Stages.Single(s => s.Name == "formatted");
        Assert.Equal([new StageInput.FromStage("data")], formatted.Inputs["data"]);
        Assert.Equal([new StageInput.FromPath(Path.Combine(temp.Folder, "models", "tiny"))], formatted.Inputs["model"]);
        Assert.False(spec.Stages.Single(s => s.Name == "probes").Inputs.ContainsKey("data"));
        Assert.Equal(new SourceLocation(temp.SpecPath, 16, 3), formatted.Location);
    }

    [Fact]
    public void Variables_substitute_inside_text_and_keep_their_type_when_whole()
    {
        var yaml = """
            name: vars
            vars: { dir: models, lr: 3e-5, steps: 7, think: false }
            stages:
              base:
                kind: quantize
                inputs: { model: "${vars.dir}/tiny" }
              train:
                kind: lora
                inputs: { model: base }
                params: { lora_alpha: "${vars.steps}", target_modules: "x_${vars.steps}" }
              fmt:
                kind: format
                inputs: { data: data, model: "${vars.dir}/tiny" }
                params: { strip_empty_think: "${vars.think}", system_prompt: "costs $${vars.lr}: ${vars.lr}" }
              data:
                kind: load
                inputs: { files: "${vars.dir}/tiny" }
            """;
        using var temp = new TempSpec(yaml, "models/tiny/");
        var spec = temp.Valid();
        var lora = Assert.IsType<LoraParameters>(spec.Stages[1].Parameters);
        Assert.Equal(7, lora.LoraAlpha);
        Assert.Equal(["x_7"], lora.TargetModules);
        var format = Assert.IsType<FormatParameters>(spec.Stages[2].Parameters);
        Assert.False(format.StripEmptyThink);
        Assert.Equal("costs ${vars.lr}: 3e-5", format.SystemPrompt);
        Assert.Equal(new Dictionary<string, string> { ["dir"] = "models", ["lr"] = "3e-5", ["steps"] = "7", ["think"] = "false" }, spec.Vars);
    }

    [Fact]
    public void Unquoted_variable_in_a_flow_mapping_as_the_format_shows_it()
    {
        // `{ model: ${vars.model} }`: '{' and '}' are flow indicators, so YAML may end the scalar early.
        var yaml = "name: flow\nvars:\n  model: models/tiny\nstages:\n  q:\n    kind: quantize\n    inputs: { model: ${vars.model} }\n";
        using var temp = new TempSpec(yaml, "models/tiny/");
        var spec = temp.Valid();
        Assert.Equal([new StageInput.FromPath(Path.Combine(temp.Folder, "models", "tiny"))], spec.Stages[0].Inputs["model"]);
    }

    [Fact]
    public void Overrides_are_typed_and_applied_like_the_file()
    {
        using var temp = new TempSpec(SpecTexts.Recipe, SpecTexts.RecipeFiles);
        var spec = temp.Valid(
            "train.learning_rate=5e-5",
            "train.lr_scheduler=linear",
            "adapter.target_modules=[q_proj, v_proj]",
            "probes.sampling.top_p=0.8",
            "data.columns.answer=answer",
            "seed=7",
            "device=cuda",
            "vars.model=models/tiny/");
        var train = spec.Stages.Single(s => s.Name == "train").Parameters as TrainParameters;
        Assert.Equal(5e-5, train!.LearningRate);
        Assert.Equal(LrScheduler.Linear, train.LrScheduler);
        Assert.Equal(["q_proj", "v_proj"], ((LoraParameters)spec.Stages.Single(s => s.Name == "adapter").Parameters).TargetModules);
        Assert.Equal(0.8, ((GenerateParameters)spec.Stages.Single(s => s.Name == "probes").Parameters).Sampling.TopP);
        Assert.Equal("answer", ((LoadParameters)spec.Stages[0].Parameters).Columns.Answer);
        Assert.Equal(7, spec.Seed);
        Assert.Equal(DeviceKind.Cuda, spec.Device);
        Assert.Equal("models/tiny/", spec.Vars["model"]);
    }

    [Fact]
    public void Override_of_a_variable_changes_every_use()
    {
        using var temp = new TempSpec(SpecTexts.Recipe, SpecTexts.RecipeFiles);
        var spec = temp.Valid("vars.lr=1e-3");
        Assert.Equal(1e-3, ((TrainParameters)spec.Stages.Single(s => s.Name == "train").Parameters).LearningRate);
    }

    [Fact]
    public void Override_with_a_string_where_a_number_is_expected_fails()
    {
        using var temp = new TempSpec(SpecTexts.Recipe, SpecTexts.RecipeFiles);
        Assert.Equal("--set train.max_steps: error: stages.train.params.max_steps: expected an integer, got 'ten'", temp.Errors("train.max_steps=ten"));
        Assert.Equal("--set train.learning_rate: error: stages.train.params.learning_rate: expected a number, got the quoted string '2e-4'",
            temp.Errors("train.learning_rate='2e-4'"));
    }

    [Fact]
    public void A_model_stage_needs_no_inputs_and_feeds_every_model_slot_and_merge_takes_an_eval_input()
    {
        var yaml = """
            name: tiny
            stages:
              base: { kind: model, params: { preset: tiny } }
              seeded: { kind: model, params: { preset: tiny, seed: 5 } }
              data: { kind: load, inputs: { files: d.csv } }
              fmt: { kind: format, inputs: { data: data, model: base } }
              stats: { kind: analyze, inputs: { data: fmt, model: base } }
              q: { kind: quantize, inputs: { model: base } }
              adapter: { kind: lora, inputs: { model: base } }
              train: { kind: train, inputs: { model: q, adapter: adapter, data: fmt } }
              probes: { kind: generate, inputs: { model: base, adapter: train }, params: { prompts: [{ name: p, text: hi }] } }
              scores: { kind: eval, inputs: { model: base, adapter: train, data: data } }
              merged:
                kind: merge
                inputs: { model: base, adapter: train, eval: scores }
                params: { base_model: Qwen/Qwen3-4B-Instruct-2507 }
            """;
        using var temp = new TempSpec(yaml, "d.csv");
        var spec = temp.Valid();
        Assert.Equal(new ModelParameters { Preset = ModelPreset.Tiny }, spec.Stages[0].Parameters);
        Assert.Empty(spec.Stages[0].Inputs);
        Assert.Equal(5, ((ModelParameters)spec.Stages[1].Parameters).Seed);
        var merged = spec.Stages.Single(s => s.Name == "merged");
        Assert.Equal([new StageInput.FromStage("scores")], merged.Inputs["eval"]);
        Assert.Equal("Qwen/Qwen3-4B-Instruct-2507", ((MergeParameters)merged.Parameters).BaseModel);
    }

    [Fact]
    public void Params_may_be_absent_or_empty()
    {
        var yaml = "name: p\nstages:\n  a:\n    kind: quantize\n    inputs: { model: m/ }\n    params:\n  b:\n    kind: quantize\n    inputs: { model: m/ }\n";
        using var temp = new TempSpec(yaml, "m/");
        var spec = temp.Valid();
        Assert.All(spec.Stages, s => Assert.Equal(new QuantizeParameters(), s.Parameters));
        Assert.Equal(DeviceKind.Auto, spec.Device);
        Assert.Equal(0, spec.Seed);
    }
}
