namespace RaftPipeline.Modeling.Adapters;

/// <summary>
/// peft's saved key names (get_peft_model_state_dict): "base_model.model." + module path + ".lora_A.weight" /
/// ".lora_B.weight", the adapter name ("default") removed. The one documented renaming between our module tree and
/// a peft file; Qwen3-MoE's expert tensors add peft's ParamWrapper nesting to the module path
/// (<see cref="Lora.ExpertLora.SavedModulePath"/>).
/// </summary>
public static class AdapterKeys
{
    public const string Prefix = "base_model.model.";

    public static string A(string modulePath) => $"{Prefix}{modulePath}.lora_A.weight";
    public static string B(string modulePath) => $"{Prefix}{modulePath}.lora_B.weight";

    /// <summary>Splits a saved key into (module path, "lora_A" | "lora_B"), or null when it is not a LoRA key.</summary>
    public static (string ModulePath, string Matrix)? Parse(string key)
    {
        if (!key.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        foreach (var m in new[] { "lora_A", "lora_B" })
        {
            var suffix = $".{m}.weight";
            if (key.EndsWith(suffix, StringComparison.Ordinal))
                return (key[Prefix.Length..^suffix.Length], m);
            // Some writers keep the adapter name: ".lora_A.default.weight".
            var named = $".{m}.default.weight";
            if (key.EndsWith(named, StringComparison.Ordinal))
                return (key[Prefix.Length..^named.Length], m);
        }
        return null;
    }
}
