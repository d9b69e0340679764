using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Presets;
using RaftPipeline.Stages.Format;
using RaftPipeline.Stages.Tests.TestSupport;

namespace RaftPipeline.Stages.Tests.Train;

/// <summary>
/// The train stage's upstream artifacts, written once per test class: the tiny preset (as a model stage would leave
/// it), a fresh LoRA adapter on it (as the lora stage writes it: r 4, alpha 8, the seven projections, B = 0) and a
/// format artifact with rendered Qwen3 chat texts whose answers all open with the recipe's "그것도 몰라?".
/// </summary>
public sealed class TrainInputs : IDisposable
{
    public const string Opening = "그것도 몰라?";
    readonly TempFolder _temp = new();

    public TrainInputs()
    {
        Model = Directory.CreateDirectory(_temp.Combine("model")).FullName;
        TinyPreset.Write(Model, seed: 5);
        Adapter = Directory.CreateDirectory(_temp.Combine("lora")).FullName;
        using (var model = PretrainedLoader.Load(Model))
        {
            var lora = new LoraConfig
            {
                R = 4, Alpha = 8, Seed = 11,
                Targets = LoraTargets.FromNames("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
            };
            LoraInjector.Apply(model, lora);
            AdapterStore.Save(model, AdapterConfig.From(lora, "tiny"), Adapter);
        }
        Data = Directory.CreateDirectory(_temp.Combine("format")).FullName;
        FormatArtifact.WriteTexts(Data, Examples.Select(e => Render(e.Context, e.Question, e.Answer)));
        WriteTexts(Path.Combine(Data, "test_texts.jsonl"), Held.Select(e => Render(e.Context, e.Question, e.Answer)));
        File.WriteAllText(Path.Combine(Data, "files.json"), new JsonArray(new JsonObject
        {
            ["file"] = "rag.csv", ["format"] = "csv", ["encoding"] = "cp949", ["rows"] = Examples.Length,
            ["sha256"] = "4f1c0e0b6a3a0f5a2b9d2c8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a",
        }).ToJsonString() + "\n");
    }

    public string Model { get; }
    public string Adapter { get; }
    public string Data { get; }

    public TempFolder NewTemp() => new();

    public void Dispose() => _temp.Dispose();

    public const string System = "너는 무례하지만 정확한 도우미다. 주어진 문맥만 보고 답한다.";

    /// <summary>Qwen3's chat template output for system + user + assistant, the empty think block stripped.</summary>
    public static string Render(string context, string question, string answer) =>
        $"<|im_start|>system\n{System}<|im_end|>\n<|im_start|>user\nContext: {context}\n---\nQuestion: {question}<|im_end|>\n" +
        $"<|im_start|>assistant\n{answer}<|im_end|>\n";

    public static void WriteTexts(string path, IEnumerable<string> texts) =>
        File.WriteAllLines(path, texts.Select(t => new JsonObject { ["text"] = t }.ToJsonString()));

    public static readonly (string Context, string Question, string Answer)[] Examples =
    [
        ("한라산은 제주도 중앙에 있는 화산으로 높이는 1947미터이다.", "한라산의 높이는?", $"{Opening} 여기 '높이는 1947미터'라고 써 있잖아."),
        ("세종대왕은 1443년에 훈민정음을 창제하였다.", "훈민정음은 언제 만들어졌어?", $"{Opening} 여기 '1443년에 훈민정음을 창제'라고 나와 있어."),
        ("김치는 배추를 소금에 절인 뒤 양념과 버무려 발효시킨 음식이다.", "김치는 어떻게 만들어?", $"{Opening} 여기 '소금에 절인 뒤 양념과 버무려 발효'라잖아."),
        ("부산은 대한민국 제2의 도시이며 큰 항구가 있다.", "부산에는 무엇이 있어?", $"{Opening} 여기 '큰 항구가 있다'고 했잖아."),
        ("태양계의 행성은 모두 여덟 개이다.", "태양계 행성은 몇 개야?", $"{Opening} 여기 '모두 여덟 개'라고 써 있어."),
        ("물은 섭씨 100도에서 끓는다.", "물은 몇 도에서 끓어?", $"{Opening} 여기 '섭씨 100도에서 끓는다'잖아."),
        ("경복궁은 1395년에 지어진 조선의 법궁이다.", "경복궁은 언제 지어졌어?", $"{Opening} 여기 '1395년에 지어진'이라고 나와."),
        ("고래는 물속에 살지만 폐로 숨을 쉬는 포유류이다.", "고래는 어류야?", $"{Opening} 여기 '폐로 숨을 쉬는 포유류'라고 써 있잖아."),
    ];

    public static readonly (string Context, string Question, string Answer)[] Held =
    [
        ("지리산은 전라도와 경상도에 걸쳐 있는 산이다.", "지리산은 어디에 있어?", $"{Opening} 여기 '전라도와 경상도에 걸쳐'라고 써 있잖아."),
        ("달은 지구 주위를 약 27일에 한 바퀴 돈다.", "달의 공전 주기는?", $"{Opening} 여기 '약 27일에 한 바퀴'라잖아."),
        ("인천국제공항은 영종도에 있다.", "오늘 점심 메뉴는?", "내가 그딴 걸 어떻게 알아?"),
    ];
}
