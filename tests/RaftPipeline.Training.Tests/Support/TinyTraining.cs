using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Training.Data;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Tests.Support;

/// <summary>A tiny Qwen3-shaped decoder and synthetic chat-like rows (template ids 5, 6) for loop tests.</summary>
public static class TinyTraining
{
    public const int Vocab = 64;
    public const int Pad = 2;          // plays <|im_end|>: pad = eos, as in the notebook
    public static readonly int[] Template = [5, 6];

    public static ModelConfig Config() => new()
    {
        Family = DecoderFamily.Qwen3, VocabSize = Vocab, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2,
        NumAttentionHeads = 4, NumKeyValueHeads = 2, HeadDim = 8, RmsNormEps = 1e-6, RopeTheta = 1e4,
        TieWordEmbeddings = true, EosTokenIds = [Pad],
    };

    /// <summary>A decoder with every layer weight trainable and the embedding (= tied lm_head) frozen.</summary>
    public static CausalLM Model(long seed = 1)
    {
        TorchRuntime.EnsureInitialized();
        var model = new CausalLM(Config(), ScalarType.Float32, CPU);
        RandomInit.Apply(model, seed, std: 0.1);
        foreach (var (name, p) in model.named_parameters())
            p.requires_grad_(name.StartsWith("model.layers."));
        return model;
    }

    public static CompletionOnlyCollator Collator(int max = 32) => new(new CollatorOptions(Template, max, Pad));

    /// <summary>Rows "[1] q… [5 6] answer… [2]" with varied lengths; answers start with <paramref name="opening"/>.</summary>
    public static List<LabeledRow> Rows(int count, int[]? opening = null, int seed = 3)
    {
        var rnd = new Random(seed);
        var c = Collator();
        var rows = new List<LabeledRow>();
        for (int i = 0; i < count; i++)
        {
            var q = Enumerable.Range(0, 2 + rnd.Next(5)).Select(_ => 10 + rnd.Next(20));
            var a = (opening ?? []).Concat(Enumerable.Range(0, 1 + rnd.Next(4)).Select(_ => 30 + rnd.Next(30)));
            rows.Add(c.Label([1, .. q, .. Template, .. a, Pad]));
        }
        return rows;
    }
}
