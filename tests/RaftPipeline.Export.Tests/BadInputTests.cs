using System.Text.Json.Nodes;
using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Tests.Support;

namespace RaftPipeline.Export.Tests;

/// <summary>What export refuses, before writing anything, and how it says so.</summary>
public sealed class BadInputTests
{
    [Fact]
    public void Unsupported_type_names_the_supported_ones()
    {
        var e = Assert.Throws<ExportException>(() => GgufFileTypes.Parse("q3_k_s", "export.type"));
        Assert.Equal("export.type: GGUF type 'q3_k_s' is not supported (supported: f32, f16, bf16, q8_0, q4_k_m)", e.Message);
    }

    [Fact]
    public void Unsupported_family_names_the_supported_ones_and_writes_nothing()
    {
        var folder = CopyOf("qwen2");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        config["model_type"] = "qwen2_moe"; // a real family neither the tool nor export knows
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        var outDir = Path.Combine(folder, "out");
        var e = Assert.Throws<ExportException>(() => GgufExport.Run(new GgufExportRequest(folder, outDir, GgufFileType.F16)));
        Assert.Contains("model_type 'qwen2_moe' cannot be exported (supported: qwen3, qwen2, llama, mistral, phi3, gemma2, gemma3_text, qwen3_moe)", e.Message);
        Assert.False(Directory.Exists(outDir));
    }

    /// <summary>Settings of the transformers fixtures that llama.cpp's graphs cannot run are refused with the reason.</summary>
    [Theory]
    [InlineData("llama_dynamic", "\"rope_parameters.rope_type\" 'dynamic' cannot be exported for llama (supported: default, linear, llama3, yarn): llama.cpp has no dynamic-NTK RoPE")]
    [InlineData("gemma3_text_fixture", "\"layer_types\" [sliding_attention, sliding_attention, full_attention] cannot be exported: llama.cpp's gemma3 graph fixes the pattern [sliding_attention, sliding_attention, sliding_attention]")]
    public void Settings_llama_cpp_cannot_run_are_refused(string fixture, string expected)
    {
        var folder = ModelFolders.Folder(fixture);
        var outDir = ModelFolders.NewTempDirectory("refused");
        Directory.Delete(outDir);
        var e = Assert.Throws<ExportException>(() => GgufExport.Run(new GgufExportRequest(folder, outDir, GgufFileType.F16)));
        Assert.StartsWith(Path.Combine(folder, "config.json"), e.Message);
        Assert.Contains(expected, e.Message);
        Assert.False(Directory.Exists(outDir));
    }

    /// <summary>SentencePiece-style tokenizers (Gemma's shape: "▁" for spaces, byte fallback) are exported as llama.cpp's
    /// SPM vocabulary (SentencePieceExportTests); what its tokenizer cannot reproduce is refused with the reason.</summary>
    [Theory]
    [InlineData("metaspace", "Metaspace pre-tokenizer")]
    [InlineData("split", "split pre-tokenizer; llama.cpp's SPM tokenizer splits nothing")]
    [InlineData("nfc", "normalizer llama.cpp's SPM tokenizer does not reproduce")]
    [InlineData("bytes", "has byte_fallback but no token <0xFB>")]
    public void A_sentencepiece_style_tokenizer_llama_cpp_cannot_reproduce_is_refused_with_the_reason(string shape, string expected)
    {
        var folder = CopyOf("gemma2");
        var path = Path.Combine(folder, "tokenizer.json");
        var vocab = new JsonObject { ["<pad>"] = 0, ["<bos>"] = 1, ["▁"] = 2, ["a"] = 3, ["▁a"] = 4 };
        for (int i = 5; i < 256; i++) vocab[$"<0x{i - 5:X2}>"] = i; // <0x00> to <0xFA>: five short of llama.cpp's 256
        JsonNode replace() => new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" };
        File.WriteAllText(path, new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = 0, ["content"] = "<pad>", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true },
                new JsonObject { ["id"] = 1, ["content"] = "<bos>", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true }),
            ["normalizer"] = shape switch
            {
                "metaspace" => null,
                "nfc" => new JsonObject { ["type"] = "Sequence", ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "NFC" }, replace()) },
                _ => replace(),
            },
            ["pre_tokenizer"] = shape switch
            {
                "metaspace" => new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false },
                "split" => new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = @"\p{N}" }, ["behavior"] = "Isolated", ["invert"] = false },
                _ => null,
            },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "Sequence", ["decoders"] = new JsonArray(
                new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
                new JsonObject { ["type"] = "ByteFallback" }, new JsonObject { ["type"] = "Fuse" }) },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null,
                ["fuse_unk"] = true, ["byte_fallback"] = true, ["ignore_merges"] = false, ["vocab"] = vocab, ["merges"] = new JsonArray(new JsonArray("▁", "a")),
            },
        }.ToJsonString());
        var outDir = Path.Combine(folder, "out");
        var e = Assert.Throws<ExportException>(() => GgufExport.Run(new GgufExportRequest(folder, outDir, GgufFileType.F16)));
        Assert.StartsWith(path, e.Message);
        Assert.True(e.Message.Contains(expected), e.Message);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void A_name_that_triggers_llama_cpps_phi3_tokenizer_quirk_is_refused()
    {
        var folder = ModelFolders.Folder("phi3");
        var outDir = ModelFolders.NewTempDirectory("refused");
        Directory.Delete(outDir);
        var e = Assert.Throws<ExportException>(() => GgufExport.Run(new GgufExportRequest(folder, outDir, GgufFileType.F16) { Name = "my-Phi-3-sft" }));
        Assert.Contains("the GGUF name 'my-Phi-3-sft' contains 'phi3' or 'phi-3'", e.Message);
        Assert.False(Directory.Exists(outDir));
    }

    /// <summary>Mistral or Phi-3 with a sliding window: llama.cpp's llama and phi3 graphs run without one, so the window
    /// becomes the context length, with a note.</summary>
    [Theory]
    [InlineData("mistral_windowed", "mistral", "llama")]
    [InlineData("phi3_windowed", "phi3", "phi3")]
    public void A_sliding_window_llama_cpp_does_not_run_becomes_the_context_length(string windowed, string unwindowed, string arch)
    {
        var result = GgufExport.Run(new GgufExportRequest(ModelFolders.Folder(windowed), ModelFolders.NewTempDirectory("win"), GgufFileType.F16));
        var header = GgufHeader.Read(result.ModelPath);
        Assert.Equal(arch, header.Metadata["general.architecture"]);
        Assert.Equal(6u, header.Metadata[$"{arch}.context_length"]);
        Assert.Contains("sliding_window 6", (string)result.Manifest["note"]!);
        var plain = GgufExport.Run(new GgufExportRequest(ModelFolders.Folder(unwindowed), ModelFolders.NewTempDirectory("win"), GgufFileType.F16));
        Assert.Equal(512u, GgufHeader.Read(plain.ModelPath).Metadata[$"{arch}.context_length"]);
        Assert.Null(plain.Manifest["note"]);
    }

    [Fact]
    public void Tokenizer_with_an_unknown_split_regex_is_refused_with_the_reason()
    {
        var folder = CopyOf("qwen2");
        var path = Path.Combine(folder, "tokenizer.json");
        var tokenizer = JsonNode.Parse(File.ReadAllText(path))!;
        // Digits in groups of two: a split no llama.cpp pre-tokenizer implements.
        tokenizer["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = @"\p{N}{1,2}|[^\p{N}]+";
        File.WriteAllText(path, tokenizer.ToJsonString());
        var outDir = Path.Combine(folder, "out");
        var e = Assert.Throws<ExportException>(() => GgufExport.Run(new GgufExportRequest(folder, outDir, GgufFileType.F16)));
        Assert.StartsWith(path, e.Message);
        Assert.Contains(@"/\p{N}{1,2}|[^\p{N}]+/) is not one llama.cpp knows by name; known: qwen2, llama-bpe", e.Message);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Adapter_on_the_embeddings_is_refused()
    {
        var folder = CopyOf("qwen2");
        var adapter = Path.Combine(folder, "adapter");
        Directory.CreateDirectory(adapter);
        File.WriteAllText(Path.Combine(adapter, "adapter_config.json"), """{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["embed_tokens"]}""");
        RaftPipeline.Modeling.Safetensors.SafetensorsWriter.Write(Path.Combine(adapter, "adapter_model.safetensors"),
            [("base_model.model.model.embed_tokens.lora_A.weight", TorchSharp.torch.zeros(2, 512)), ("base_model.model.model.embed_tokens.lora_B.weight", TorchSharp.torch.zeros(256, 2))]);
        var outDir = Path.Combine(folder, "out");
        var e = Assert.Throws<ExportException>(() => GgufExport.Run(new GgufExportRequest(folder, outDir, GgufFileType.F16) { AdapterFolder = adapter }));
        Assert.Contains("cannot adapt the embeddings or the output head", e.Message);
        Assert.False(Directory.Exists(outDir));
    }

    static string CopyOf(string family)
    {
        var source = ModelFolders.Folder(family);
        var dir = ModelFolders.NewTempDirectory("bad");
        foreach (var f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }
}
