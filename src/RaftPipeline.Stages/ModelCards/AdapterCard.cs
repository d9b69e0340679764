using System.Text;

namespace RaftPipeline.Stages.ModelCards;

/// <summary>
/// README.md for a peft adapter folder, as the Hub expects one beside adapter_config.json and
/// adapter_model.safetensors (library_name: peft), ready for <c>huggingface-cli upload</c>.
/// </summary>
public static class AdapterCard
{
    public const string FileName = "README.md";

    /// <summary>
    /// Writes <paramref name="adapterDir"/>/README.md from the adapter's own files (adapter_config.json, and
    /// train_summary.json and data_files.json when present) and, when given, an eval.json (file or eval artifact
    /// folder). <paramref name="baseModel"/>: the base model's Hub id or name (null: the adapter_config.json's
    /// base_model_name_or_path). <paramref name="baseModelDir"/>: the base model folder, whose README.md may name a
    /// license. Returns the card's path.
    /// </summary>
    public static string Write(string adapterDir, string? baseModel = null, string? evalJson = null, string? baseModelDir = null)
    {
        var facts = CardFacts.Read(adapterDir, baseModel, evalJson, baseModelDir);
        var path = Path.Combine(adapterDir, FileName);
        File.WriteAllText(path, Render(facts));
        return path;
    }

    public static string Render(CardFacts facts)
    {
        var md = new StringBuilder();
        var tags = new List<string>();
        if (facts.BaseModelIsHubId) tags.Add("base_model:adapter:" + facts.BaseModel);
        tags.AddRange(["lora", "sft", "transformers", "raft-pipeline"]);
        CardMarkdown.FrontMatter(md, facts, "peft", tags);
        md.Append("# LoRA adapter for ").Append(facts.BaseModel).Append("\n\n");
        md.Append("A LoRA adapter (peft layout) fine-tuned with RaftPipeline on retrieval-augmented question answering.\n\n");
        CardMarkdown.BaseModel(md, facts);
        md.Append("- **Files:** `adapter_config.json`, `adapter_model.safetensors`\n");
        CardMarkdown.DataFiles(md, facts);
        CardMarkdown.Hyperparameters(md, facts);
        CardMarkdown.EvalTable(md, facts);
        md.Append("\n## How to use\n\n```python\n");
        md.Append("from peft import PeftModel\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n\n");
        md.Append("adapter = \"path/or/hub-id/of/this/adapter\"\n");
        md.Append("base = AutoModelForCausalLM.from_pretrained(\"").Append(facts.BaseModel).Append("\", dtype=\"auto\")\n");
        md.Append("model = PeftModel.from_pretrained(base, adapter)\n");
        md.Append("tokenizer = AutoTokenizer.from_pretrained(\"").Append(facts.BaseModel).Append("\")\n");
        md.Append("# merge into the base weights for plain transformers inference:\n");
        md.Append("merged = model.merge_and_unload()\n```\n");
        return md.ToString();
    }
}
