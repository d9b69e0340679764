using System.Text.Json;
using RaftPipeline.Text.Assets;
using RaftPipeline.Text.Templates.Jinja;
using RaftPipeline.Text.Templates.Jinja.Runtime;

namespace RaftPipeline.Text.Templates;

/// <summary>
/// A model's chat template, rendered as transformers' <c>apply_chat_template(..., tokenize=False)</c> does.
/// Loaded from a Hugging Face folder: <c>chat_template.jinja</c> when present (it wins, as in transformers 5),
/// else tokenizer_config.json's <c>chat_template</c> (a string, or a list of {name, template} where "default" is
/// used, and "tool_use" when tools are given), plus named templates in <c>additional_chat_templates/*.jinja</c>.
/// The variables are those transformers passes: messages, tools, documents, add_generation_prompt, the special
/// tokens set in tokenizer_config.json, and every extra keyword (enable_thinking, ...).
/// </summary>
public sealed class ChatTemplate
{
    /// <summary>The special-token attributes transformers exposes to templates (its special_tokens_map).</summary>
    static readonly string[] SpecialTokenKeys = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    /// <summary>
    /// Constructor defaults of tokenizer classes for special tokens missing from tokenizer_config.json (measured with
    /// transformers 5.17: a Qwen2Tokenizer config without unk_token renders unk_token as &lt;|endoftext|&gt;).
    /// Only classes checked against transformers are listed.
    /// </summary>
    static readonly Dictionary<string, Dictionary<string, string>> ClassDefaults = new()
    {
        ["Qwen2Tokenizer"] = new() { ["unk_token"] = "<|endoftext|>", ["eos_token"] = "<|endoftext|>", ["pad_token"] = "<|endoftext|>" },
        ["Qwen2TokenizerFast"] = new() { ["unk_token"] = "<|endoftext|>", ["eos_token"] = "<|endoftext|>", ["pad_token"] = "<|endoftext|>" },
    };

    readonly IReadOnlyDictionary<string, JinjaTemplate> _templates;
    readonly IReadOnlyDictionary<string, object?> _specialTokens;

    ChatTemplate(IReadOnlyDictionary<string, JinjaTemplate> templates, IReadOnlyDictionary<string, object?> specialTokens)
    {
        _templates = templates;
        _specialTokens = specialTokens;
    }

    /// <summary>Template names: "default" plus any named ones.</summary>
    public IReadOnlyCollection<string> Names => _templates.Keys.ToList();

    /// <summary>Special tokens passed to the template (bos_token, eos_token, ... as set in tokenizer_config.json).</summary>
    public IReadOnlyDictionary<string, object?> SpecialTokens => _specialTokens;

    /// <summary>Loads from a model folder holding tokenizer_config.json (and perhaps chat_template.jinja).</summary>
    /// <exception cref="ChatInputException">No template, or tokenizer_config.json is malformed.</exception>
    /// <exception cref="TemplateSyntaxException">The template does not parse.</exception>
    public static ChatTemplate FromModelFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new ChatInputException(folder, "folder", "not found (expected a model folder with tokenizer_config.json)");
        var configPath = Path.Combine(folder, "tokenizer_config.json");
        var jinjaPath = Path.Combine(folder, "chat_template.jinja");
        string? configText = File.Exists(configPath) ? File.ReadAllText(configPath) : null;
        if (configText is null && !File.Exists(jinjaPath))
            throw new ChatInputException(folder, "folder", "has neither tokenizer_config.json nor chat_template.jinja");
        var templates = new Dictionary<string, JinjaTemplate>(StringComparer.Ordinal);
        var specialTokens = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (configText is not null) ReadConfig(configText, configPath, templates, specialTokens, parseTemplates: !File.Exists(jinjaPath));
        if (File.Exists(jinjaPath))
        {
            // transformers reads chat_template.jinja instead of tokenizer_config.json's chat_template.
            templates.Clear();
            templates["default"] = JinjaTemplate.Parse(File.ReadAllText(jinjaPath), jinjaPath);
        }
        var extraDir = Path.Combine(folder, "additional_chat_templates");
        if (Directory.Exists(extraDir))
            foreach (var file in Directory.GetFiles(extraDir, "*.jinja").Order(StringComparer.Ordinal))
                templates[Path.GetFileNameWithoutExtension(file)] = JinjaTemplate.Parse(File.ReadAllText(file), file);
        if (templates.Count == 0)
            throw new ChatInputException(configPath, "chat_template", "missing: the folder has no chat_template.jinja and tokenizer_config.json sets no chat_template");
        return new ChatTemplate(templates, specialTokens);
    }

    /// <summary>The Qwen3 template and special tokens shipped inside the tool (see Assets/Qwen3/SOURCE.md).</summary>
    public static ChatTemplate FromEmbeddedQwen3()
    {
        using var stream = EmbeddedAssets.OpenQwen3("tokenizer_config.json");
        using var reader = new StreamReader(stream);
        return FromTokenizerConfig(reader.ReadToEnd(), "embedded Qwen3 tokenizer_config.json");
    }

    /// <summary>Loads from the text of a tokenizer_config.json.</summary>
    public static ChatTemplate FromTokenizerConfig(string json, string sourceName)
    {
        var templates = new Dictionary<string, JinjaTemplate>(StringComparer.Ordinal);
        var specialTokens = new Dictionary<string, object?>(StringComparer.Ordinal);
        ReadConfig(json, sourceName, templates, specialTokens);
        if (templates.Count == 0) throw new ChatInputException(sourceName, "chat_template", "missing");
        return new ChatTemplate(templates, specialTokens);
    }

    /// <summary>A template given as text, with the special tokens a caller chooses.</summary>
    public static ChatTemplate FromText(string template, string sourceName, IReadOnlyDictionary<string, string>? specialTokens = null) =>
        new(new Dictionary<string, JinjaTemplate> { ["default"] = JinjaTemplate.Parse(template, sourceName) },
            (specialTokens ?? new Dictionary<string, string>()).ToDictionary(k => k.Key, k => (object?)k.Value));

    /// <summary>The same special tokens with another template text (transformers' chat_template= argument).</summary>
    public ChatTemplate WithTemplate(string template, string sourceName) =>
        new(new Dictionary<string, JinjaTemplate> { ["default"] = JinjaTemplate.Parse(template, sourceName) }, _specialTokens);

    static void ReadConfig(string json, string path, Dictionary<string, JinjaTemplate> templates, Dictionary<string, object?> specialTokens,
        bool parseTemplates = true)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ChatInputException(path, $"line {(ex.LineNumber ?? 0) + 1}, column {(ex.BytePositionInLine ?? 0) + 1}", "not valid JSON");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ChatInputException(path, "$", "expected a JSON object");
            var tokenizerClass = root.TryGetProperty("tokenizer_class", out var tc) && tc.ValueKind == JsonValueKind.String ? tc.GetString() : null;
            ClassDefaults.TryGetValue(tokenizerClass ?? "", out var defaults);
            foreach (var key in SpecialTokenKeys)
            {
                if (!root.TryGetProperty(key, out var token))
                {
                    // An absent key takes the tokenizer class's constructor default; an explicit null stays unset.
                    if (defaults?.TryGetValue(key, out var dflt) == true) specialTokens[key] = dflt;
                    continue;
                }
                if (token.ValueKind == JsonValueKind.Null) continue;
                specialTokens[key] = TokenText(path, key, token);
            }
            if (root.TryGetProperty("additional_special_tokens", out var extra) && extra.ValueKind == JsonValueKind.Array)
                specialTokens["additional_special_tokens"] =
                    extra.EnumerateArray().Select((t, i) => (object?)TokenText(path, $"additional_special_tokens[{i}]", t)).ToList();
            if (!parseTemplates || !root.TryGetProperty("chat_template", out var ct) || ct.ValueKind == JsonValueKind.Null) return;
            var source = $"{path}:chat_template";
            switch (ct.ValueKind)
            {
                case JsonValueKind.String:
                    templates["default"] = JinjaTemplate.Parse(ct.GetString()!, source);
                    break;
                case JsonValueKind.Array:
                    var i = 0;
                    foreach (var item in ct.EnumerateArray())
                    {
                        if (item.ValueKind != JsonValueKind.Object
                            || !item.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                            || !item.TryGetProperty("template", out var text) || text.ValueKind != JsonValueKind.String)
                            throw new ChatInputException(path, $"chat_template[{i}]", "expected a {\"name\": string, \"template\": string} object");
                        templates[name.GetString()!] = JinjaTemplate.Parse(text.GetString()!, $"{source}[{name.GetString()}]");
                        i++;
                    }
                    break;
                default:
                    throw new ChatInputException(path, "chat_template", "expected a string or a list of {name, template} objects");
            }
        }
    }

    static string TokenText(string path, string key, JsonElement token) => token.ValueKind switch
    {
        JsonValueKind.String => token.GetString()!,
        JsonValueKind.Object when token.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString()!,
        _ => throw new ChatInputException(path, key, "expected a string or an {\"content\": string} object"),
    };

    /// <summary>
    /// Which template transformers picks: the named one when asked, else "tool_use" when tools are given and it
    /// exists, else "default" (a single template is always "default").
    /// </summary>
    public JinjaTemplate Select(string? name = null, bool hasTools = false)
    {
        if (name is not null)
            return _templates.TryGetValue(name, out var named) ? named
                : throw new ArgumentException($"no chat template named '{name}' (have: {string.Join(", ", _templates.Keys)})");
        if (hasTools && _templates.TryGetValue("tool_use", out var toolUse)) return toolUse;
        return _templates.TryGetValue("default", out var dflt) ? dflt
            : throw new ArgumentException($"no default chat template (have: {string.Join(", ", _templates.Keys)}); name one");
    }

    /// <summary>Renders the conversation as transformers' apply_chat_template(..., tokenize=False).</summary>
    /// <param name="extra">Extra template variables (e.g. enable_thinking = false); they override special tokens.</param>
    /// <param name="templateName">A named template; by default as <see cref="Select"/> decides.</param>
    /// <exception cref="TemplateException">The template failed (including raise_exception).</exception>
    public string Render(ChatConversation conversation, bool addGenerationPrompt = false,
        IReadOnlyDictionary<string, object?>? extra = null, string? templateName = null, Func<DateTime>? now = null)
    {
        // transformers 5 refuses before rendering.
        if (conversation.Count == 0)
            throw new ChatInputException(conversation.SourceName, "messages",
                "Cannot apply chat template to an empty conversation. Provide at least one message.");
        var template = Select(templateName, conversation.Tools is not null);
        // transformers: render(messages=..., tools=..., documents=..., add_generation_prompt=..., **special_tokens, **kwargs);
        // tools and documents are passed as None when absent, so "tools is defined" holds and "tools is none" too.
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = CopyOf(conversation.Messages),
            ["tools"] = CopyOf(conversation.Tools),
            ["documents"] = CopyOf(conversation.Documents),
            ["add_generation_prompt"] = addGenerationPrompt,
        };
        foreach (var (k, v) in _specialTokens) variables[k] = v;
        if (extra is not null)
            foreach (var (k, v) in extra) variables[k] = v;
        return template.Render(variables, now);
    }

    /// <summary>Templates cannot mutate values (immutable sandbox), but namespaces can hold them: hand out copies.</summary>
    static object? CopyOf(object? v) => v switch
    {
        List<object?> l => l.Select(CopyOf).ToList(),
        PyDict d => CopyDict(d),
        _ => v,
    };

    static PyDict CopyDict(PyDict d)
    {
        var copy = new PyDict();
        foreach (var (k, v) in d.Entries) copy[k] = CopyOf(v);
        return copy;
    }
}
