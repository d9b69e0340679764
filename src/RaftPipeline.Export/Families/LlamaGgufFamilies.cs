using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Source;

namespace RaftPipeline.Export.Families;

/// <summary>
/// Llama (arch llama): q/k rows permuted for llama.cpp's adjacent-pair RoPE; {arch}.vocab_size; RoPE scaling linear,
/// llama3 (rope_freqs.weight) and yarn (see <see cref="GgufRope"/>).
/// </summary>
public sealed class LlamaGgufFamily : GgufFamily
{
    public override string ModelType => "llama";
    public override string Architecture => "llama";
    public override bool PermutesQueryKey => true;
    public override IReadOnlyList<string> RopeScalings => ["linear", "llama3", "yarn"];

    public override ExportModelConfig Read(ExportModelConfig shared, ConfigJson r)
    {
        if (r.OptionalBool("attention_bias") == true) throw r.Error("attention_bias", "true cannot be exported (llama's GGUF layout has no q/k/v biases here)");
        if (r.OptionalBool("mlp_bias") == true) throw r.Error("mlp_bias", "true cannot be exported");
        return shared;
    }

    public override IEnumerable<KeyValuePair<string, GgufValue>> Metadata(ExportModelConfig c) =>
        [new($"{Architecture}.vocab_size", GgufValue.U32((uint)c.VocabSize))];
}

/// <summary>
/// Mistral: convert_hf_to_gguf writes MistralForCausalLM as arch llama (LlamaModel), q/k permuted. llama.cpp's llama
/// graph has no sliding window: a config with one smaller than max_position_embeddings gets the window as its
/// context_length (exact up to there) and a note in the manifest.
/// </summary>
public sealed class MistralGgufFamily : GgufFamily
{
    public override string ModelType => "mistral";
    public override string Architecture => "llama";
    public override bool PermutesQueryKey => true;

    public override ExportModelConfig Read(ExportModelConfig shared, ConfigJson r) => shared with { SlidingWindow = ReadWindow(r) };

    public override int ContextLength(ExportModelConfig c) => WindowedContext(c);

    public override string? Note(ExportModelConfig c) => WindowNote(c);

    public override IEnumerable<KeyValuePair<string, GgufValue>> Metadata(ExportModelConfig c) =>
        [new($"{Architecture}.vocab_size", GgufValue.U32((uint)c.VocabSize))];
}
