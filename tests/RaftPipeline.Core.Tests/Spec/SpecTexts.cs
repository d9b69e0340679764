namespace RaftPipeline.Core.Tests.Spec;

/// <summary>Spec texts shared by the tests: the seed recipe's stages, written as a user would.</summary>
static class SpecTexts
{
    /// <summary>The external files <see cref="Recipe"/> names, created by <see cref="TempSpec"/>.</summary>
    public static readonly string[] RecipeFiles = ["data/rag.csv", "data/rag_neg.csv", "models/tiny/"];

    public const string Recipe = """
        # yaml-language-server: $schema=./raft.schema.json
        name: recipe
        seed: 1234
        device: cpu
        vars:
          model: models/tiny
          lr: 2e-4
        stages:
          data:
            kind: load
            inputs:
              files: [data/rag.csv, data/rag_neg.csv]
            params:
              encoding: cp949
              test_size: 0.1
          formatted:
            kind: format
            inputs: { data: data, model: "${vars.model}" }
            params:
              system_prompt: Answer rudely.
          stats:
            kind: analyze
            inputs: { data: formatted, model: "${vars.model}" }
          quantized:
            kind: quantize
            inputs: { model: "${vars.model}" }
          adapter:
            kind: lora
            inputs: { model: quantized }
            params:
              target_modules: all-linear
          train:
            kind: train
            inputs: { model: quantized, adapter: adapter, data: formatted }
            params:
              learning_rate: ${vars.lr}
              max_steps: 10
          merged:
            kind: merge
            inputs: { model: "${vars.model}", adapter: train }
          probes:
            kind: generate
            inputs: { model: quantized, adapter: train }
            params:
              prompts:
                - { name: in-domain, context: "서울은 한국의 수도이다.", question: "한국의 수도는?" }
                - name: general
                  text: Hello!
                  system: ""
              sampling: { top_k: 20 }
          scores:
            kind: eval
            inputs: { model: quantized, adapter: train, data: data }
        """;
}
