using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace RaftPipeline.Stages.ModelCards;

/// <summary>
/// The sections both model cards share, as Markdown: Hub front matter, the data files with their sha256, the LoRA and
/// training hyperparameters, the base-vs-tuned eval table. Sections whose facts are absent are left out, never
/// filled with placeholders.
/// </summary>
static class CardMarkdown
{
    /// <summary>
    /// YAML front matter as the Hub reads it (huggingface_hub's ModelCardData keys): base_model only when it is a
    /// Hub id (the Hub rejects other values), library_name, pipeline_tag, tags and the license when known.
    /// </summary>
    public static void FrontMatter(StringBuilder md, CardFacts facts, string libraryName, IEnumerable<string> tags)
    {
        md.Append("---\n");
        if (facts.BaseModelIsHubId) md.Append("base_model: ").Append(facts.BaseModel).Append('\n');
        md.Append("library_name: ").Append(libraryName).Append('\n');
        if (facts.License is not null) md.Append("license: ").Append(facts.License).Append('\n');
        md.Append("pipeline_tag: text-generation\n");
        md.Append("tags:\n");
        foreach (var tag in tags) md.Append("- ").Append(tag).Append('\n');
        md.Append("---\n\n");
    }

    public static void BaseModel(StringBuilder md, CardFacts facts)
    {
        md.Append("- **Base model:** ");
        md.Append(facts.BaseModelIsHubId ? $"[{facts.BaseModel}](https://huggingface.co/{facts.BaseModel})" : $"`{facts.BaseModel}`");
        md.Append('\n');
    }

    public static void DataFiles(StringBuilder md, CardFacts facts)
    {
        if (facts.DataFiles is null) return;
        md.Append("\n## Training data\n\n| file | sha256 | encoding | rows |\n|---|---|---|---:|\n");
        foreach (var node in facts.DataFiles)
        {
            if (node is not JsonObject f) continue;
            md.Append("| ").Append(Cell(f["file"] ?? f["name"]))
              .Append(" | `").Append(Text(f["sha256"]) ?? "unknown").Append('`')
              .Append(" | ").Append(Cell(f["encoding"]))
              .Append(" | ").Append(Cell(f["rows"])).Append(" |\n");
        }
    }

    /// <summary>The LoRA settings from adapter_config.json, then every scalar of train_summary.json in its own order.</summary>
    public static void Hyperparameters(StringBuilder md, CardFacts facts)
    {
        var c = facts.AdapterConfig;
        md.Append("\n## Hyperparameters\n\n| setting | value |\n|---|---|\n");
        Row(md, "peft type", c["peft_type"]);
        Row(md, "r", c["r"]);
        Row(md, "lora_alpha", c["lora_alpha"]);
        Row(md, "lora_dropout", c["lora_dropout"]);
        Row(md, "use_rslora", c["use_rslora"]);
        Row(md, "target_modules", c["target_modules"] is JsonArray targets
            ? JsonValue.Create(string.Join(", ", targets.Select(t => Text(t))))
            : c["target_modules"]);
        Row(md, "init_lora_weights", c["init_lora_weights"]);
        Row(md, "bias", c["bias"]);
        if (facts.TrainSummary is null) return;
        // The train stage's own settings (learning rate, epochs, optimizer, ...), as the spec gave them.
        if (facts.TrainSummary["hyperparameters"] is JsonObject training)
        {
            md.Append("\n### Training settings\n\n| setting | value |\n|---|---|\n");
            foreach (var (key, value) in training)
                if (value is JsonValue) Row(md, key, value);
        }
        md.Append("\n### Training run\n\n| metric | value |\n|---|---|\n");
        foreach (var (key, value) in facts.TrainSummary)
            if (value is JsonValue) Row(md, key, value);
    }

    /// <summary>
    /// The eval stage's results, one row per model (base, tuned): share of answerable questions answered with the
    /// expected opening, share quoting the context, share of unanswerable questions refused, held-out loss.
    /// </summary>
    public static void EvalTable(StringBuilder md, CardFacts facts)
    {
        if (facts.Eval is null) return;
        if (facts.Eval["models"] is not JsonObject models || models.Count == 0)
            throw new InvalidDataException($"{facts.EvalPath ?? CardFacts.EvalFile}: \"models\" is {facts.Eval["models"]?.ToJsonString() ?? "missing"}, expected an object of models (base, tuned) with their metrics");
        md.Append("\n## Evaluation\n\n");
        var counts = new[] { "rows", "answerable", "unanswerable" }.Where(k => facts.Eval[k] is JsonValue)
            .Select(k => $"{Cell(facts.Eval[k])} {k}").ToList();
        if (counts.Count > 0) md.Append("Held-out split: ").Append(string.Join(", ", counts)).Append(".\n\n");
        md.Append("| model | opening rate | quote rate | refusal rate | loss |\n|---|---:|---:|---:|---:|\n");
        foreach (var (name, node) in models)
        {
            var m = node as JsonObject;
            md.Append("| ").Append(name)
              .Append(" | ").Append(Percent(m?["opening_rate"]))
              .Append(" | ").Append(Percent(m?["quote_rate"]))
              .Append(" | ").Append(Percent(m?["refusal_rate"]))
              .Append(" | ").Append(Number(m?["loss"], "F4")).Append(" |\n");
        }
        md.Append("\nopening rate: answerable questions whose answer starts with the recipe's opening; quote rate: answers quoting a " +
                  "verbatim span of the context; refusal rate: unanswerable questions answered with the refusal; loss: mean token " +
                  "loss on the held-out answers.\n");
    }

    static void Row(StringBuilder md, string key, JsonNode? value)
    {
        if (value is null) return;
        md.Append("| ").Append(key).Append(" | ").Append(Cell(value)).Append(" |\n");
    }

    static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString();

    static string Cell(JsonNode? node) => (Text(node) ?? "").Replace("|", "\\|").Replace("\n", " ");

    static string Percent(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<double>(out var d) ? (100 * d).ToString("F1", CultureInfo.InvariantCulture) + "%" : "–";

    static string Number(JsonNode? node, string format) =>
        node is JsonValue v && v.TryGetValue<double>(out var d) ? d.ToString(format, CultureInfo.InvariantCulture) : "–";
}
