using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Text.Assets;

namespace RaftPipeline.Export.Tests.Support;

/// <summary>
/// The transformers-written tiny models of RaftPipeline.Modeling.Tests/Fixtures/families (generate.py there: vocab 256,
/// hidden 32, bf16, sharded; a peft adapter beside each), copied with what export needs and those folders lack: a
/// tokenizer and a chat template of the family's shape. Some cases also edit one config key, named in
/// <see cref="Cases"/> with the reason: where the fixture uses a setting llama.cpp's graph cannot run (that refusal
/// has its own test), the copy uses the setting real checkpoints of the family use.
/// <para>
/// The tokenizer is a byte-level BPE that fits the 256 ids: the family's special tokens at 0, 1 (pad, bos as the
/// config has them) and from 255 down (eos = 255); the 215 bytes that can occur in UTF-8 text (all but C0 controls other
/// than tab/newline/CR, DEL, and 0xC0, 0xC1, 0xF5-0xFF); and the first merges of the real Qwen3 tokenizer whose parts
/// are present, up to the remaining ids. Both llama.cpp and our code read the same folder. The cases of style
/// <see cref="SentencePiece"/> keep the fixture's own SentencePiece-style tokenizer and template instead.
/// </para>
/// </summary>
public static class FixtureFamilies
{
    /// <param name="Layers">when set, the fixture's layers repeated (layer i takes fixture layer i mod n) up to this count
    /// and written as one F32 safetensors file, with num_hidden_layers set to it</param>
    public sealed record Case(string Fixture, string Style, IReadOnlyDictionary<string, JsonNode?> ConfigEdits, int? Layers = null);

    const string QwenSplit = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    const string Llama3Split = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    static readonly Dictionary<string, JsonNode?> None = new();

    /// <summary>The style of a case that keeps the fixture's own tokenizer and chat template.</summary>
    public const string SentencePiece = "sentencepiece";

    public static readonly IReadOnlyDictionary<string, Case> Cases = new Dictionary<string, Case>
    {
        // The fixture's window (6) is shorter than these prompts; llama.cpp's llama graph has none (tested apart).
        ["mistral"] = new("mistral", "mistral", new Dictionary<string, JsonNode?> { ["sliding_window"] = null }),
        ["mistral_windowed"] = new("mistral", "mistral", None),
        ["phi3"] = new("phi3", "phi3", None),
        ["phi3_windowed"] = new("phi3", "phi3", new Dictionary<string, JsonNode?> { ["sliding_window"] = 6 }),
        ["gemma2"] = new("gemma2", "gemma", None),
        // No soft-caps: llama.cpp's gemma2 graph always applies both, so export writes caps under which tanh is the identity.
        ["gemma2_nocap"] = new("gemma2", "gemma", new Dictionary<string, JsonNode?> { ["attn_logit_softcapping"] = null, ["final_logit_softcapping"] = null }),
        // The fixture's layer_types [sliding, sliding, full] differ from llama.cpp's fixed gemma3 pattern (every sixth
        // layer full; refused, tested apart): the copy uses the pattern, as released Gemma 3 checkpoints do.
        ["gemma3_text"] = new("gemma3_text", "gemma", new Dictionary<string, JsonNode?>
        {
            ["layer_types"] = new JsonArray("sliding_attention", "sliding_attention", "sliding_attention"),
        }),
        ["gemma3_text_fixture"] = new("gemma3_text", "gemma", None),
        // Six layers (the fixture's three, twice) follow llama.cpp's pattern with a full-attention layer (the sixth,
        // RoPE base 1e6), so the full layers are proven too; and with Gemma 3 4B+'s linear RoPE scaling on them.
        ["gemma3_text_6"] = new("gemma3_text", "gemma", new Dictionary<string, JsonNode?> { ["layer_types"] = null }, Layers: 6),
        ["gemma3_text_6_linear"] = new("gemma3_text", "gemma", new Dictionary<string, JsonNode?>
        {
            ["layer_types"] = null,
            ["rope_parameters"] = new JsonObject
            {
                ["full_attention"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = 8.0, ["rope_theta"] = 1000000.0 },
                ["sliding_attention"] = new JsonObject { ["rope_type"] = "default", ["rope_theta"] = 10000.0 },
            },
        }, Layers: 6),
        // Qwen3-MoE (4 experts, top 2, norm_topk_prob true as released Qwen3-MoE checkpoints have it); the tokenizer
        // shape does not concern the family.
        ["qwen3_moe"] = new("qwen3_moe", "llama3", None),
        ["llama3"] = new("llama3", "llama3", None),
        // The fixtures' own SentencePiece-style tokenizers (chat_fixtures.py), exported as llama.cpp's SPM vocabulary:
        // Gemma's without a dummy prefix, Mistral's with one (add_space_prefix).
        ["gemma2_spm"] = new("gemma2", SentencePiece, None),
        ["mistral_spm"] = new("mistral", SentencePiece, new Dictionary<string, JsonNode?> { ["sliding_window"] = null }),
        ["phi3_spm"] = new("phi3", SentencePiece, None),
        ["llama_linear"] = new("llama_linear", "llama3", None),
        ["llama_yarn"] = new("llama_yarn", "llama3", None),
        ["llama_dynamic"] = new("llama_dynamic", "llama3", None),
    };

    static readonly object s_lock = new();
    static readonly Dictionary<string, string> s_built = new();

    public static string FixtureRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RaftPipeline.sln"))) dir = dir.Parent;
            return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("no RaftPipeline.sln above the test binaries"),
                "tests", "RaftPipeline.Modeling.Tests", "Fixtures", "families");
        }
    }

    public static bool IsFixture(string name) => Cases.ContainsKey(name);

    /// <summary>The peft adapter generate.py wrote for the case's fixture (random non-zero A and B).</summary>
    public static string Adapter(string name) => Path.Combine(FixtureRoot, Cases[name].Fixture, "adapter");

    public static string Folder(string name)
    {
        lock (s_lock)
        {
            if (s_built.TryGetValue(name, out var dir)) return dir;
            var c = Cases[name];
            // The folder name becomes general.name; llama.cpp keys a Phi-3 tokenizer quirk on names containing "phi3",
            // which export refuses (BadInputTests), so the phi3 copy is named "p3".
            dir = Path.Combine(ModelFolders.Root, "fixture-" + name.Replace("phi3", "p3"));
            Directory.CreateDirectory(dir);
            var source = Path.Combine(FixtureRoot, c.Fixture, "model");
            foreach (var f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)), overwrite: true);
            var configPath = Path.Combine(dir, "config.json");
            var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
            foreach (var (key, value) in c.ConfigEdits) config[key] = value?.DeepClone();
            if (c.Layers is { } layers)
            {
                int fixtureLayers = (int)config["num_hidden_layers"]!;
                config["num_hidden_layers"] = layers;
                StackLayers(dir, fixtureLayers, layers);
            }
            File.WriteAllText(configPath, config.ToJsonString());
            if (c.Style != SentencePiece) WriteTokenizer(dir, c.Style);
            s_built[name] = dir;
            return dir;
        }
    }

    static void StackLayers(string dir, int fixtureLayers, int layers)
    {
        RaftPipeline.Modeling.Native.TorchRuntime.EnsureInitialized(); // every tensor goes through the tool's native fix-up
        var source = RaftPipeline.Export.Source.SafetensorsTensors.Open(dir);
        var tensors = new List<(string, TorchSharp.torch.Tensor)>();
        var layer = new System.Text.RegularExpressions.Regex(@"^model\.layers\.(\d+)\.(.+)$");
        foreach (var e in source.Entries)
        {
            var values = source.ReadFloats(e.Name);
            var m = layer.Match(e.Name);
            if (!m.Success) { tensors.Add((e.Name, TorchSharp.torch.tensor(values, e.Shape))); continue; }
            for (int i = int.Parse(m.Groups[1].Value); i < layers; i += fixtureLayers)
                tensors.Add(($"model.layers.{i}.{m.Groups[2].Value}", TorchSharp.torch.tensor(values, e.Shape)));
        }
        foreach (var f in Directory.GetFiles(dir, "*.safetensors")) File.Delete(f);
        File.Delete(Path.Combine(dir, "model.safetensors.index.json"));
        RaftPipeline.Modeling.Safetensors.SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors);
        foreach (var (_, t) in tensors) t.Dispose();
    }

    /// <summary>Special tokens by id, the split regex, the chat template and the tokenizer_config tokens of a style.</summary>
    static (Dictionary<int, string> Specials, string Split, string Template, string Bos, string Eos, string Pad) Style(string style) => style switch
    {
        "gemma" => (new() { [0] = "<pad>", [1] = "<bos>", [255] = "<eos>", [254] = "<start_of_turn>", [253] = "<end_of_turn>" }, QwenSplit,
            // Gemma 3's shape: no system role, so a system message opens the first user turn; the assistant is "model".
            "{{- bos_token }}{%- if messages[0]['role'] == 'system' %}{%- set prefix = messages[0]['content'] + '\\n\\n' %}{%- set turns = messages[1:] %}" +
            "{%- else %}{%- set prefix = '' %}{%- set turns = messages %}{%- endif %}{%- for message in turns %}" +
            "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] %}" +
            "{{- '<start_of_turn>' + role + '\\n' + (prefix if loop.first else '') + message['content'] | trim + '<end_of_turn>\\n' }}{%- endfor %}" +
            "{%- if add_generation_prompt %}{{- '<start_of_turn>model\\n' }}{%- endif %}",
            "<bos>", "<eos>", "<pad>"),
        "phi3" => (new() { [0] = "<pad>", [1] = "<s>", [255] = "<|endoftext|>", [254] = "<|end|>", [253] = "<|user|>", [252] = "<|assistant|>", [251] = "<|system|>" },
            QwenSplit,
            "{%- for message in messages %}{{- '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}{%- endfor %}" +
            "{%- if add_generation_prompt %}{{- '<|assistant|>\\n' }}{%- endif %}",
            "<s>", "<|endoftext|>", "<pad>"),
        "mistral" => (new() { [0] = "<pad>", [1] = "<s>", [255] = "</s>", [254] = "[INST]", [253] = "[/INST]", [252] = "[SYSTEM_PROMPT]", [251] = "[/SYSTEM_PROMPT]" },
            Llama3Split,
            // Mistral's "v7" shape: a space after the opening markers, no generation prompt.
            "{{- bos_token }}{%- for message in messages %}{%- if message['role'] == 'system' %}{{- '[SYSTEM_PROMPT] ' + message['content'] + '[/SYSTEM_PROMPT]' }}" +
            "{%- elif message['role'] == 'user' %}{{- '[INST] ' + message['content'] + '[/INST]' }}{%- else %}{{- ' ' + message['content'] + eos_token }}{%- endif %}{%- endfor %}",
            "<s>", "</s>", "<pad>"),
        _ => (new() { [0] = "<|finetune_right_pad_id|>", [1] = "<|begin_of_text|>", [255] = "<|end_of_text|>", [254] = "<|eot_id|>",
                [253] = "<|start_header_id|>", [252] = "<|end_header_id|>" }, Llama3Split, TinyFamilies.Llama3,
            "<|begin_of_text|>", "<|end_of_text|>", "<|finetune_right_pad_id|>"),
    };

    static void WriteTokenizer(string dir, string style)
    {
        var (specials, split, template, bosToken, eosToken, padToken) = Style(style);
        var freeIds = new Queue<int>(Enumerable.Range(0, 256).Where(i => !specials.ContainsKey(i)));
        var vocab = new JsonObject();
        var known = new HashSet<string>(StringComparer.Ordinal);
        for (int b = 0; b < 256; b++)
        {
            if (b is <= 0x08 or (>= 0x0E and <= 0x1F) or 0x7F or 0xC0 or 0xC1 or >= 0xF5) continue;
            var ch = RaftPipeline.Text.Tokenization.ByteLevelAlphabet.ForByte((byte)b).ToString();
            vocab[ch] = freeIds.Dequeue();
            known.Add(ch);
        }
        var merges = new JsonArray();
        using (var stream = EmbeddedAssets.OpenQwen3("tokenizer.json"))
        using (var qwen = JsonDocument.Parse(stream))
            foreach (var m in qwen.RootElement.GetProperty("model").GetProperty("merges").EnumerateArray())
            {
                if (freeIds.Count == 0) break;
                var (left, right) = m.ValueKind == JsonValueKind.Array
                    ? (m[0].GetString()!, m[1].GetString()!)
                    : (m.GetString()!.Split(' ')[0], m.GetString()!.Split(' ')[1]);
                if (!known.Contains(left) || !known.Contains(right) || known.Contains(left + right)) continue;
                vocab[left + right] = freeIds.Dequeue();
                known.Add(left + right);
                merges.Add(new JsonArray(left, right));
            }
        var added = new JsonArray();
        foreach (var (id, content) in specials.OrderBy(p => p.Key)) added.Add(ByteLevelTokenizerJson.Special(id, content));
        // BOS prepended when special tokens are added (tokenizer_config's add_bos_token says the same).
        var tokenizer = ByteLevelTokenizerJson.Build(added, split, ByteLevelTokenizerJson.PrependBos(bosToken, 1), ignoreMerges: false, vocab, merges);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), tokenizer.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), new JsonObject
        {
            // Every template here writes BOS itself; a runtime adding it (llama.cpp's add_bos) does so instead.
            ["add_bos_token"] = true,
            ["add_eos_token"] = false,
            ["bos_token"] = bosToken,
            ["eos_token"] = eosToken,
            ["pad_token"] = padToken,
            ["chat_template"] = template,
        }.ToJsonString());
    }
}
