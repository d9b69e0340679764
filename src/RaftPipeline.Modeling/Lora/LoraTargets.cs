using System.Text.RegularExpressions;

namespace RaftPipeline.Modeling.Lora;

/// <summary>
/// Which linear modules get an adapter, with peft's matching rules (peft tuners_utils.check_target_module_exists):
/// a list matches a module path equal to a name or ending in "." + name; a single string is a regex that must match
/// the WHOLE module path (re.fullmatch); "all-linear" takes every linear except the output embedding (lm_head).
/// </summary>
public sealed class LoraTargets
{
    public const string AllLinearShorthand = "all-linear";

    readonly IReadOnlyList<string>? _names;
    readonly Regex? _regex;

    LoraTargets(IReadOnlyList<string>? names, string? pattern, bool allLinear)
    {
        _names = names;
        Pattern = pattern;
        IsAllLinear = allLinear;
        if (pattern is not null) _regex = new Regex($"^(?:{pattern})\\z", RegexOptions.CultureInvariant);
    }

    public IReadOnlyList<string>? Names => _names;
    public string? Pattern { get; }
    public bool IsAllLinear { get; }

    public static LoraTargets FromNames(params string[] names)
    {
        if (names.Length == 0) throw new ArgumentException("target_modules must name at least one module");
        return new(names, null, false);
    }

    public static LoraTargets AllLinear() => new(null, null, true);

    /// <summary>No module (target_modules null): peft allows it when target_parameters names what to adapt.</summary>
    public static LoraTargets NoModules() => new([], null, false);

    /// <summary>peft treats a string target_modules as a regex, except the "all-linear" shorthand (case-insensitive).</summary>
    public static LoraTargets FromString(string value) =>
        string.Equals(value, AllLinearShorthand, StringComparison.OrdinalIgnoreCase) ? AllLinear() : new(null, value, false);

    /// <summary>The seven Qwen3/Llama projections the notebook targets.</summary>
    public static LoraTargets AttentionAndMlp() =>
        FromNames("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    /// <param name="modulePath">Full module path, e.g. "model.layers.0.self_attn.q_proj".</param>
    /// <param name="isOutputEmbedding">True for the model's output head, which all-linear leaves out.</param>
    public bool Matches(string modulePath, bool isOutputEmbedding)
    {
        if (IsAllLinear) return !isOutputEmbedding;
        if (_regex is not null) return _regex.IsMatch(modulePath);
        return _names!.Any(n => modulePath == n || modulePath.EndsWith("." + n, StringComparison.Ordinal));
    }
}
