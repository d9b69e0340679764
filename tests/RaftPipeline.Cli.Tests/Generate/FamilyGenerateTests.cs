using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Cli.Tests.Support;

namespace RaftPipeline.Cli.Tests.Generate;

/// <summary>
/// `raft generate --messages` on each family's tiny folder (tests/RaftPipeline.Modeling.Tests/Fixtures/families):
/// the prompt its own chat template renders, and an answer that ends on the family's stop token, as transformers'
/// apply_chat_template and generate() gave them for the same folder and conversation (chat_reference.json there,
/// the `stop_probe` of each case).
/// </summary>
[Collection(TinyModelCollection.Name)]
public sealed class FamilyGenerateTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("raft-family-generate-").FullName;
    static string Families => Path.Combine(RepoPaths.Root, "tests", "RaftPipeline.Modeling.Tests", "Fixtures", "families");

    /// <summary>Each case and the reference conversation: its stop probe, except phi3_longrope's, whose 16-token prompt
    /// crosses the original context while answering (see FamilyChatTests); its multi-turn prompt is long from the start.</summary>
    public static TheoryData<string, string> Cases() => new()
    {
        { "llama3", "stop_probe" }, { "mistral", "stop_probe" }, { "phi3", "stop_probe" }, { "phi3_longrope", "multi_turn" },
        { "gemma2", "stop_probe" }, { "gemma3_text", "stop_probe" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generate_renders_the_familys_template_and_stops_where_transformers_stops(string name, string conversation)
    {
        var reference = JsonNode.Parse(File.ReadAllText(Path.Combine(Families, "chat_reference.json")))!["cases"]![name]!;
        var probe = conversation == "stop_probe" ? reference["stop_probe"]! : reference["conversations"]![conversation]!;
        var messages = Path.Combine(_dir, $"{name}.json");
        File.WriteAllText(messages, probe["messages"]!.ToJsonString());
        var (exit, stdout, stderr) = Raft("generate", "--model", Path.Combine(Families, name, "model"), "--messages", messages,
            "--max-new-tokens", "24", "--device", "cpu", "--json");
        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout.Trim());
        var root = json.RootElement;
        int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
        Assert.Equal(probe["text"]!.GetValue<string>(), root.GetProperty("prompt").GetString());
        Assert.Equal(probe["ids"]!.AsArray().Select(n => n!.GetValue<int>()), Ints(root.GetProperty("prompt_ids")));
        var want = probe["generated"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();
        Assert.Equal(want, Ints(root.GetProperty("generated_ids")));
        var eos = reference["generation_eos"] is JsonArray list ? list.Select(n => n!.GetValue<int>()).ToArray() : [reference["generation_eos"]!.GetValue<int>()];
        Assert.Equal(want.Length > 0 && eos.Contains(want[^1]) ? "eos" : "length", root.GetProperty("finish_reason").GetString());
    }

    static (int Exit, string Out, string Err) Raft(params string[] args) => TinyModelFixture.Raft(args);

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
