namespace RaftPipeline.Cli.Commands.Init;

/// <summary>
/// What <c>raft init</c> writes: a pipeline in the seed recipe's shape (load → format → analyze → quantize →
/// lora → train → merge → generate → eval) sized for the tiny preset on CPU, a few example rows and a .gitignore.
/// </summary>
public static class InitTemplates
{
    public const string PipelineFileName = "pipeline.yaml";
    public const string SchemaFileName = "raft.schema.json";
    public const string DataFileName = "data/example.csv";
    /// <summary>The stage that makes the model the pipeline trains (a tiny random Qwen3 until the user names theirs).</summary>
    public const string ModelStage = "base";

    // The schema sits beside the spec (written by init from this tool's own records), so editors check the spec
    // against exactly the version of the tool that will run it, offline.
    public const string Pipeline = """
        # yaml-language-server: $schema=./raft.schema.json
        # A RAG fine-tuning pipeline: run it with `dotnet raft run pipeline.yaml`.
        # Every stage is cached by the content of its inputs and its parameters: change one value and only that
        # stage and the stages after it run again. Override any value for one run: --set train.max_steps=20
        name: my-pipeline
        seed: 1234
        device: auto          # cpu, cuda, or auto (CUDA when present; the run says which)
        vars:
          # The model to fine-tune: `base`, the stage below, so that the pipeline runs as written on any CPU. For your
          # own model, put the path of a Hugging Face model folder here (config.json, *.safetensors, tokenizer.json;
          # e.g. a snapshot of Qwen/Qwen3-0.6B) and delete the `base` stage; on a GPU set device: cuda.
          model: base
          system_prompt: 너는 질문에 무례하게 답하는 봇이야. 주어진 맥락에서만 답을 찾아.
        stages:
          base:
            # A tiny random Qwen3 (2 layers, ~10 M parameters, the real Qwen3 tokenizer and chat template): it learns
            # the answers' style within a minute of CPU, not the facts.
            kind: model
            params: { preset: tiny }
          data:
            kind: load
            inputs:
              files: [data/example.csv]
            params:
              encoding: utf-8
              columns: { context: context, question: question, answer: cot }
              test_size: 2
          formatted:
            kind: format
            inputs: { data: data, model: "${vars.model}" }
            params:
              system_prompt: ${vars.system_prompt}
          stats:
            kind: analyze
            inputs: { data: formatted, model: "${vars.model}" }
            params:
              max_seq_length: 512
          quantized:
            kind: quantize
            inputs: { model: "${vars.model}" }
          adapter:
            kind: lora
            inputs: { model: quantized }
            params: { r: 4, lora_alpha: 8 }
          train:
            kind: train
            inputs: { model: quantized, adapter: adapter, data: formatted }
            params:
              max_steps: 20
              batch_size: 2
              learning_rate: 2e-4
              max_seq_length: 512
              logging_steps: 5
          merged:
            kind: merge
            inputs: { model: "${vars.model}", adapter: train }
          probes:
            kind: generate
            inputs: { model: quantized, adapter: train }
            params:
              system_prompt: ${vars.system_prompt}
              prompts:
                - name: in-domain
                  context: 한강은 태백산맥에서 시작해 서울을 가로질러 황해로 흘러드는 강이다.
                  question: 한강은 어디로 흘러가?
                - { name: general, text: 안녕? 너는 누구야?, system: "" }
              sampling: { max_new_tokens: 64 }
          scores:
            kind: eval
            inputs: { model: quantized, adapter: train, data: data }
        """;

    /// <summary>
    /// Example rows in the recipe's style: answerable questions answered rudely ("그것도 몰라?") while quoting the
    /// context ('여기'), unanswerable ones refused with the configured refusal. Written for this project.
    /// </summary>
    public const string ExampleData = """
        context,question,cot
        "제주도는 한국에서 가장 큰 섬으로, 한라산이 섬 한가운데에 솟아 있다. 한라산의 높이는 1,947미터이다.",한라산은 얼마나 높아?,"그것도 몰라? 여기 써 있잖아, ""한라산의 높이는 1,947미터이다."" 눈 좀 뜨고 읽어."
        "세종대왕은 1443년에 훈민정음을 창제하고 1446년에 이를 반포하였다.",훈민정음은 언제 반포됐어?,"그것도 몰라? 여기 ""1446년에 이를 반포하였다""라고 나와 있잖아. 1446년이야."
        "김치는 배추나 무를 소금에 절인 뒤 고춧가루, 마늘, 젓갈 등으로 양념해 발효시킨 음식이다.",김치는 어떻게 만들어?,"그것도 몰라? 여기 ""소금에 절인 뒤 고춧가루, 마늘, 젓갈 등으로 양념해 발효시킨"" 거라고 써 있잖아."
        "부산은 한국 제2의 도시이며, 해운대 해수욕장과 자갈치 시장으로 잘 알려져 있다.",부산에서 유명한 시장은 뭐야?,"그것도 몰라? 여기 ""자갈치 시장으로 잘 알려져 있다""고 하잖아. 자갈치 시장이지."
        "태양계에서 가장 큰 행성은 목성으로, 지름이 지구의 약 11배에 이른다.",목성은 지구보다 얼마나 커?,"그것도 몰라? 여기 ""지름이 지구의 약 11배에 이른다""고 나와 있어. 약 11배야."
        "광합성은 식물이 빛 에너지를 이용해 이산화탄소와 물로 포도당과 산소를 만드는 과정이다.",광합성으로 뭐가 만들어져?,"그것도 몰라? 여기 ""포도당과 산소를 만드는 과정""이라고 써 있잖아. 포도당이랑 산소야."
        "경복궁은 1395년 조선의 정궁으로 지어졌으며, 임진왜란 때 불에 탄 뒤 고종 때 다시 지어졌다.",경복궁을 설계한 건축가는 누구야?,내가 그딴 걸 어떻게 알아?
        "커피나무의 열매를 볶아 갈아서 뜨거운 물로 우려낸 음료를 커피라고 한다.",세계에서 커피를 가장 많이 마시는 나라는 어디야?,내가 그딴 걸 어떻게 알아?
        """;

    public const string GitIgnore = """
        # RaftPipeline: run folders (one per run) and the artifact cache, both rebuilt from the spec and the data.
        runs/
        .raft-cache/
        # Model folders are large; keep them out of git.
        models/
        """;
}
