using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Native;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Support;

public static class TinyModels
{
    public static ModelConfig Config(DecoderFamily family = DecoderFamily.Qwen3, bool tied = true) => new()
    {
        Family = family,
        VocabSize = 300,
        HiddenSize = 32,
        IntermediateSize = 48,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        HeadDim = family == DecoderFamily.Qwen3 ? 16 : 8,
        RmsNormEps = 1e-6,
        RopeTheta = 1e6,
        TieWordEmbeddings = tied,
        QkvBias = family == DecoderFamily.Qwen2,
        EosTokenIds = [299],
    };

    public static CausalLM Build(ModelConfig? config = null, ScalarType dtype = ScalarType.Float32, long seed = 1)
    {
        TorchRuntime.EnsureInitialized();
        var model = new CausalLM(config ?? Config(), dtype, CPU);
        RandomInit.Apply(model, seed, std: 0.2, jitter: 0.2);
        model.eval();
        return model;
    }
}
