using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RaftPipeline.Stages.Train;

/// <summary>
/// A small model card for the trained adapter until Stages/ModelCards AdapterCard (models helper) is merged: the
/// Hub's YAML front matter (library_name peft, base_model only when it is a Hub id, which the Hub validates), then
/// the base model, the data files with their hashes, the hyperparameters and the losses.
/// </summary>
internal static partial class AdapterReadme
{
    [GeneratedRegex(@"^[A-Za-z0-9][\w.-]*/[\w.-]+$")]
    private static partial Regex HubId();

    public static string Render(string baseModel, JsonNode? dataFiles, JsonObject hyperparameters, JsonObject summary)
    {
        var s = new StringBuilder();
        s.Append("---\nlibrary_name: peft\n");
        if (HubId().IsMatch(baseModel) && !Path.IsPathRooted(baseModel)) s.Append("base_model: ").Append(baseModel).Append('\n');
        s.Append("tags:\n- lora\n- sft\n- raft\n---\n\n");
        s.Append("# LoRA adapter\n\n");
        s.Append("Trained by RaftPipeline's `train` stage: supervised fine-tuning with the loss on the answer only (completion-only). ");
        s.Append("Load it with peft: `PeftModel.from_pretrained(base_model, this_folder)`.\n\n");
        s.Append("- Base model: `").Append(baseModel).Append("`\n\n");

        s.Append("## Data\n\n");
        if (dataFiles is JsonArray files && files.Count > 0)
        {
            s.Append("| file | rows | encoding | sha256 |\n|---|---|---|---|\n");
            foreach (var f in files.OfType<JsonObject>())
                s.Append("| ").Append(Cell(f["file"] ?? f["name"])).Append(" | ").Append(Cell(f["rows"])).Append(" | ")
                 .Append(Cell(f["encoding"])).Append(" | ").Append(Cell(f["sha256"])).Append(" |\n");
            s.Append('\n');
        }
        else s.Append("The format artifact listed no source files.\n\n");

        s.Append("## Hyperparameters\n\n| parameter | value |\n|---|---|\n");
        foreach (var (key, value) in hyperparameters.OrderBy(p => p.Key, StringComparer.Ordinal))
            s.Append("| ").Append(key).Append(" | ").Append(Cell(value)).Append(" |\n");

        s.Append("\n## Training\n\n| metric | value |\n|---|---|\n");
        foreach (var key in new[] { "global_steps", "epochs", "train_loss", "final_loss", "eval_loss_before", "eval_loss_after", "tokens_seen", "trainable_parameters" })
            if (summary[key] is { } v) s.Append("| ").Append(key).Append(" | ").Append(Cell(v)).Append(" |\n");
        return s.ToString();
    }

    static string Cell(JsonNode? node) => node switch
    {
        null => "",
        JsonValue v when v.TryGetValue<double>(out var d) && d != Math.Floor(d) => d.ToString("G6", CultureInfo.InvariantCulture),
        JsonValue v when v.TryGetValue<string>(out var t) => t.Replace("|", "\\|").Replace("\n", "\\n"),
        _ => node.ToJsonString().Replace("|", "\\|"),
    };
}
