using RaftPipeline.Stages.ModelCards;
using RaftPipeline.Stages.Tests.Merge;
using RaftPipeline.Stages.Tests.TestSupport;

namespace RaftPipeline.Stages.Tests.ModelCards;

public class AdapterCardTests(TinyModelFolder tiny) : IClassFixture<TinyModelFolder>
{
    [Fact]
    public void A_train_artifact_card_names_the_base_from_adapter_config_and_the_license_from_the_base_card()
    {
        using var temp = new TempFolder();
        var adapter = MergeStageExecutorTests.WriteAdapter(tiny.Path, temp.Combine("adapter"));
        var baseDir = Directory.CreateDirectory(temp.Combine("base")).FullName;
        File.WriteAllText(Path.Combine(baseDir, "README.md"), "---\nlicense: apache-2.0\npipeline_tag: text-generation\n---\n# Base\n");

        var path = AdapterCard.Write(adapter, baseModelDir: baseDir);

        Assert.Equal(Path.Combine(adapter, "README.md"), path);
        var card = File.ReadAllText(path);
        Assert.StartsWith("---\nlibrary_name: peft\nlicense: apache-2.0\npipeline_tag: text-generation\ntags:\n- lora\n", card);
        Assert.Contains("# LoRA adapter for raft-tiny-test", card);
        Assert.Contains($"`{MergeStageExecutorTests.Sha}`", card);
        Assert.Contains("| steps | 10 |", card);
        Assert.DoesNotContain("## Evaluation", card);
    }

    [Fact]
    public void An_eval_json_without_models_is_an_error_saying_what_is_expected()
    {
        using var temp = new TempFolder();
        var adapter = MergeStageExecutorTests.WriteAdapter(tiny.Path, temp.Combine("adapter"));
        File.WriteAllText(temp.Combine("eval.json"), """{"rows": 3}""");
        var e = Assert.Throws<InvalidDataException>(() => AdapterCard.Write(adapter, "Qwen/Qwen3-4B", temp.Combine("eval.json")));
        Assert.StartsWith(temp.Combine("eval.json") + ": \"models\" is missing, expected an object of models (base, tuned)", e.Message);
    }
}
