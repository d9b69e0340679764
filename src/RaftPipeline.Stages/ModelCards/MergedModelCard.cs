using System.Text;

namespace RaftPipeline.Stages.ModelCards;

/// <summary>README.md for the merged model folder (library_name: transformers): what was merged into what, and how to load it.</summary>
public static class MergedModelCard
{
    public const string FileName = "README.md";

    /// <summary>
    /// Writes <paramref name="mergedDir"/>/README.md; the facts come from the adapter that was merged (see
    /// <see cref="CardFacts.Read"/>). <paramref name="adapterFolder"/>: the subfolder of <paramref name="mergedDir"/> that
    /// holds the adapter alone, named by the card only when it is really there.
    /// </summary>
    public static string Write(string mergedDir, CardFacts facts, string dtypeName, string? adapterFolder = null)
    {
        if (adapterFolder is not null && !File.Exists(Path.Combine(mergedDir, adapterFolder, Modeling.Adapters.AdapterConfig.FileName)))
            throw new InvalidOperationException($"{mergedDir}: the card would name {adapterFolder}/, which holds no adapter");
        var path = Path.Combine(mergedDir, FileName);
        File.WriteAllText(path, Render(facts, dtypeName, adapterFolder));
        return path;
    }

    public static string Render(CardFacts facts, string dtypeName, string? adapterFolder = null)
    {
        var md = new StringBuilder();
        var tags = new List<string>();
        if (facts.BaseModelIsHubId) tags.Add("base_model:finetune:" + facts.BaseModel);
        tags.AddRange(["lora", "sft", "merged", "raft-pipeline"]);
        CardMarkdown.FrontMatter(md, facts, "transformers", tags);
        md.Append("# ").Append(facts.BaseModel).Append(" + LoRA (merged)\n\n");
        md.Append("The base model with a LoRA adapter merged into its weights (W' = W + (lora_alpha / r) · B · A), saved in ")
          .Append(dtypeName).Append('.');
        if (adapterFolder is not null) md.Append(" The adapter alone is in `").Append(adapterFolder).Append("/`.");
        md.Append("\n\n");
        CardMarkdown.BaseModel(md, facts);
        CardMarkdown.DataFiles(md, facts);
        CardMarkdown.Hyperparameters(md, facts);
        CardMarkdown.EvalTable(md, facts);
        md.Append("\n## How to use\n\n```python\n");
        md.Append("from transformers import AutoModelForCausalLM, AutoTokenizer\n\n");
        md.Append("path = \"path/or/hub-id/of/this/model\"\n");
        md.Append("model = AutoModelForCausalLM.from_pretrained(path, dtype=\"auto\")\n");
        md.Append("tokenizer = AutoTokenizer.from_pretrained(path)\n");
        md.Append("messages = [{\"role\": \"user\", \"content\": \"Context: ...\\n---\\nQuestion: ...\"}]\n");
        md.Append("inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors=\"pt\")\n");
        md.Append("print(tokenizer.decode(model.generate(inputs, max_new_tokens=256)[0][inputs.shape[1]:], skip_special_tokens=True))\n```\n");
        return md.ToString();
    }
}
