using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Text.Assets;
using static TorchSharp.torch;

namespace RaftPipeline.Export.Tests.Support;

/// <summary>
/// Small model folders built by the repository (qwen3, qwen2_256, llama_256, phi3_256), once per test run, sized for the
/// k-quants: hidden 256 and intermediate 256 are multiples of ggml's 256-value super-block, so Q4_K and Q6_K blocks
/// are really used (the transformers-written fixtures' 32-wide rows and the preset's 64 only exercise the fallbacks).
/// qwen3 also stands for the family in the other export tests (the transformers-written Qwen3 has the real 151,936-token
/// vocabulary; it is tested against transformers' own outputs in TransformersWeightsTests). Their tokenizer files also
/// serve the transformers-written qwen2 and llama (same vocab size, 512).
/// <para>
/// Weights: the repository's random init (N(0, 0.1), norms and biases jittered) saved by its Hugging Face writer in
/// bf16. Tokenizer: a 512-token byte-level BPE cut from the real Qwen3 tokenizer (its 256 byte tokens and its first
/// merges, in rank order, whose parts are already in the vocabulary) with the family's real split regex (Qwen2's for
/// qwen3/qwen2, Llama 3's for llama) and the family's special tokens; a small chat template of the family's shape
/// (ChatML; Llama 3 headers, BOS added). Both llama.cpp and our code read the same folder, so these need not be
/// anyone's released model; they need to be tokenizers and weights of the shapes the families use.
/// </para>
/// </summary>
public static class TinyFamilies
{
    public const int Vocab = 512;
    const string QwenSplit = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    const string Llama3Split = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public const string ChatMl =
        "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}" +
        "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";
    public const string Llama3 =
        "{{- bos_token }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{%- endfor %}" +
        "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";

    static readonly object s_lock = new();
    static readonly Dictionary<string, string> s_built = new();

    /// <param name="name">qwen3, qwen2_256, llama_256 or phi3_256 (fused attn_qkv: Q5_K in Q4_K_M)</param>
    public static string Folder(string name)
    {
        lock (s_lock)
        {
            if (s_built.TryGetValue(name, out var dir)) return dir;
            // The folder name becomes general.name, and llama.cpp keys a Phi-3 tokenizer quirk on "phi3" in it.
            dir = Path.Combine(ModelFolders.Root, name.Replace("phi3", "p3"));
            Build(name.Replace("_256", ""), dir);
            s_built[name] = dir;
            return dir;
        }
    }

    static void Build(string family, string dir)
    {
        TorchRuntime.EnsureInitialized();
        bool llama = family == "llama";
        string[] specials = llama
            ? ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
            : ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
        int firstSpecial = Vocab - specials.Length;
        int Id(string s) => firstSpecial + Array.IndexOf(specials, s);
        int eos = llama ? Id("<|eot_id|>") : Id("<|im_end|>");
        int eos2 = llama ? Id("<|end_of_text|>") : Id("<|endoftext|>");
        int? bos = llama ? Id("<|begin_of_text|>") : null;
        int pad = eos2;

        var config = new ModelConfig
        {
            Family = family switch { "qwen3" => DecoderFamily.Qwen3, "qwen2" => DecoderFamily.Qwen2, "phi3" => DecoderFamily.Phi3, _ => DecoderFamily.Llama },
            VocabSize = Vocab,
            HiddenSize = 256,
            IntermediateSize = 256,
            NumHiddenLayers = 2,
            NumAttentionHeads = 4,
            NumKeyValueHeads = 2,
            HeadDim = 64,
            RmsNormEps = 1e-6,
            RopeTheta = llama ? 500000 : 1_000_000,
            MaxPositionEmbeddings = 2048,
            TieWordEmbeddings = family == "qwen3",
            QkvBias = family == "qwen2",
            BosTokenId = bos ?? pad,
            EosTokenIds = [eos, eos2],
            PadTokenId = pad,
        };
        using (var model = new CausalLM(config, ScalarType.Float32, CPU))
        {
            RandomInit.Apply(model, seed: family.Length * 31 + 5, std: 0.1, jitter: 0.1);
            PretrainedSaver.Save(model, dir, ScalarType.BFloat16);
        }
        File.WriteAllText(Path.Combine(dir, "generation_config.json"), new JsonObject
        {
            ["bos_token_id"] = bos ?? pad,
            ["eos_token_id"] = new JsonArray(eos, eos2),
            ["pad_token_id"] = pad,
            ["do_sample"] = true,
            ["temperature"] = 0.7,
            ["top_p"] = 0.8,
            ["top_k"] = 20,
            ["repetition_penalty"] = 1.05,
        }.ToJsonString());
        WriteTokenizer(dir, llama ? Llama3Split : QwenSplit, specials, firstSpecial, bos);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), new JsonObject
        {
            ["add_bos_token"] = llama,
            ["bos_token"] = llama ? "<|begin_of_text|>" : null,
            ["eos_token"] = llama ? "<|eot_id|>" : "<|im_end|>",
            ["pad_token"] = llama ? "<|end_of_text|>" : "<|endoftext|>",
            ["chat_template"] = llama ? Llama3 : ChatMl,
        }.ToJsonString());
    }

    static void WriteTokenizer(string dir, string split, string[] specials, int firstSpecial, int? bos)
    {
        using var stream = EmbeddedAssets.OpenQwen3("tokenizer.json");
        using var qwen = JsonDocument.Parse(stream);
        var vocab = new JsonObject();
        var known = new HashSet<string>(StringComparer.Ordinal);
        for (int b = 0; b < 256; b++)
        {
            var ch = RaftPipeline.Text.Tokenization.ByteLevelAlphabet.ForByte((byte)b).ToString();
            vocab[ch] = b;
            known.Add(ch);
        }
        var merges = new JsonArray();
        foreach (var m in qwen.RootElement.GetProperty("model").GetProperty("merges").EnumerateArray())
        {
            if (known.Count >= firstSpecial) break;
            var (left, right) = m.ValueKind == JsonValueKind.Array
                ? (m[0].GetString()!, m[1].GetString()!)
                : (m.GetString()!.Split(' ')[0], m.GetString()!.Split(' ')[1]);
            if (!known.Contains(left) || !known.Contains(right) || known.Contains(left + right)) continue;
            vocab[left + right] = known.Count;
            known.Add(left + right);
            merges.Add(new JsonArray(left, right));
        }
        var added = new JsonArray();
        for (int i = 0; i < specials.Length; i++) added.Add(ByteLevelTokenizerJson.Special(firstSpecial + i, specials[i]));
        JsonNode post = bos is { } b2 ? ByteLevelTokenizerJson.PrependBos(specials[0], b2) : ByteLevelTokenizerJson.ByteLevel();
        var tokenizer = ByteLevelTokenizerJson.Build(added, split, post, ignoreMerges: bos is not null, vocab, merges);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), tokenizer.ToJsonString());
    }
}
