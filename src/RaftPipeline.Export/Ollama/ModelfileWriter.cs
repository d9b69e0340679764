using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RaftPipeline.Export.Ollama;

/// <summary>
/// An Ollama Modelfile (docs/modelfile.md): FROM the GGUF, ADAPTER the LoRA GGUF when the adapter is kept apart, a
/// TEMPLATE in Go template syntax that renders a conversation as the model's chat template does, the stop tokens
/// (the generation config's end-of-sequence tokens and the template's end-of-turn marker) and the sampling defaults of
/// generation_config.json. Ollama's template sees .System, .Messages (each .Role, .Content) and .Prompt.
/// </summary>
public static class ModelfileWriter
{
    /// <summary>A chat format we can write as a Go template, recognised from the Jinja template's markers.</summary>
    public enum ChatFormat { None, ChatMl, Llama3, Gemma, Phi3 }

    public sealed record Content(string Text, ChatFormat Format, IReadOnlyList<string> Stops, IReadOnlyDictionary<string, string> Parameters);

    public static ChatFormat Recognise(string? jinjaTemplate) => jinjaTemplate switch
    {
        null => ChatFormat.None,
        _ when jinjaTemplate.Contains("<|im_start|>", StringComparison.Ordinal) && jinjaTemplate.Contains("<|im_end|>", StringComparison.Ordinal) => ChatFormat.ChatMl,
        _ when jinjaTemplate.Contains("<|start_header_id|>", StringComparison.Ordinal) && jinjaTemplate.Contains("<|eot_id|>", StringComparison.Ordinal) => ChatFormat.Llama3,
        _ when jinjaTemplate.Contains("<start_of_turn>", StringComparison.Ordinal) && jinjaTemplate.Contains("<end_of_turn>", StringComparison.Ordinal) => ChatFormat.Gemma,
        _ when jinjaTemplate.Contains("<|assistant|>", StringComparison.Ordinal) && jinjaTemplate.Contains("<|end|>", StringComparison.Ordinal) => ChatFormat.Phi3,
        _ => ChatFormat.None,
    };

    /// <summary>The Go TEMPLATE and the end-of-turn stop of a recognised format.</summary>
    public static (string Template, string Stop)? Translation(ChatFormat format) => format switch
    {
        ChatFormat.ChatMl => (ChatMlTemplate, "<|im_end|>"),
        ChatFormat.Llama3 => (Llama3Template, "<|eot_id|>"),
        ChatFormat.Gemma => (GemmaTemplate, "<end_of_turn>"),
        ChatFormat.Phi3 => (Phi3Template, "<|end|>"),
        _ => null,
    };

    /// <summary>Gemma: BOS from the runtime (add_bos_token); no system role, so the system message opens the first
    /// user turn followed by a blank line (Gemma 3's template; llama.cpp's gemma format does the same); the
    /// assistant's role is "model".</summary>
    public const string GemmaTemplate =
        "{{- $system := \"\" }}{{- range .Messages }}{{- if eq .Role \"system\" }}{{- $system = .Content }}{{- else }}" +
        "<start_of_turn>{{ if eq .Role \"assistant\" }}model{{ else }}{{ .Role }}{{ end }}\n" +
        "{{ if and $system (eq .Role \"user\") }}{{ $system }}\n\n{{ $system = \"\" }}{{ end }}{{ .Content }}<end_of_turn>\n{{ end }}{{- end }}" +
        "<start_of_turn>model\n";

    /// <summary>Phi-3: each message as &lt;|role|&gt;\ncontent&lt;|end|&gt;\n, then the assistant tag.</summary>
    public const string Phi3Template =
        "{{- range .Messages }}<|{{ .Role }}|>\n{{ .Content }}<|end|>\n{{ end }}<|assistant|>\n";

    /// <summary>ChatML (Qwen): each message as &lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n, then the assistant prompt.</summary>
    public const string ChatMlTemplate =
        "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n";

    /// <summary>Llama 3: BOS is added by the runtime (add_bos_token); each message in header tokens, content trimmed
    /// as the Jinja template's <c>| trim</c> does, then the assistant header.</summary>
    public const string Llama3Template =
        "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n";

    public static Content Build(string from, string? adapter, string? jinjaTemplate, IReadOnlyList<string> eosTokens, string modelFolder)
    {
        var format = Recognise(jinjaTemplate);
        var stops = new List<string>();
        void Stop(string s) { if (!stops.Contains(s)) stops.Add(s); }
        var translation = Translation(format);
        if (translation is { } t) Stop(t.Stop);
        foreach (var s in eosTokens) Stop(s);

        var parameters = new Dictionary<string, string>();
        var genPath = Path.Combine(modelFolder, "generation_config.json");
        if (File.Exists(genPath))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(genPath));
            var root = doc.RootElement;
            void Copy(string key, string parameter)
            {
                if (root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number)
                    parameters[parameter] = v.GetDouble().ToString("R", CultureInfo.InvariantCulture);
            }
            bool sample = !root.TryGetProperty("do_sample", out var ds) || ds.ValueKind != JsonValueKind.False;
            if (sample)
            {
                Copy("temperature", "temperature");
                Copy("top_p", "top_p");
                Copy("top_k", "top_k");
            }
            else parameters["temperature"] = "0"; // greedy in transformers: temperature 0 in Ollama
            Copy("repetition_penalty", "repeat_penalty");
        }

        var sb = new StringBuilder();
        sb.Append("# Written by raft export. Create the model with: ollama create NAME -f Modelfile\n");
        sb.Append($"FROM {from}\n");
        if (adapter is not null) sb.Append($"ADAPTER {adapter}\n");
        if (translation is { } tr)
            sb.Append("TEMPLATE \"\"\"").Append(tr.Template).Append("\"\"\"\n");
        else
            sb.Append("# No TEMPLATE: the chat template is not one this tool translates to Go (ChatML, Llama 3, Gemma, Phi-3); Ollama reads tokenizer.chat_template from the GGUF.\n");
        foreach (var s in stops) sb.Append($"PARAMETER stop \"{s}\"\n");
        foreach (var (k, v) in parameters) sb.Append($"PARAMETER {k} {v}\n");
        return new Content(sb.ToString(), format, stops, parameters);
    }
}
