using RaftPipeline.Modeling.Config;
using RaftPipeline.Training.Checkpointing;

namespace RaftPipeline.Training.Tests.Checkpointing;

public class CheckpointPlannerTests
{
    static readonly ModelConfig Qwen3_4B = new()
    {
        Family = DecoderFamily.Qwen3, VocabSize = 151936, HiddenSize = 2560, IntermediateSize = 9728, NumHiddenLayers = 36,
        NumAttentionHeads = 32, NumKeyValueHeads = 8, HeadDim = 128, RmsNormEps = 1e-6, RopeTheta = 5e6, TieWordEmbeddings = true,
    };

    const long GiB = 1L << 30;

    [Fact]
    public void The_activation_estimate_matches_the_h100_measurement_of_the_4b_shape()
    {
        // bench/RESULTS.md: bf16 LoRA without recomputation, 2 × 1,000 tokens: 19.55 GiB used after the steps,
        // 8.18 GiB after loading, over 36 layers.
        double measured = (19.55 - 8.18) * GiB / (2000.0 * 36);
        long estimate = CheckpointPlanner.ActivationBytesPerTokenPerLayer(Qwen3_4B);
        Assert.Equal(169_984, estimate);
        Assert.InRange(estimate / measured, 0.9, 1.1);
    }

    [Fact]
    public void Plenty_of_memory_recomputes_nothing_and_too_little_recomputes_every_layer()
    {
        Assert.Equal(0, CheckpointPlanner.LayersToRecompute(Qwen3_4B, 2000, 70 * GiB)); // an idle H100 after loading
        Assert.Equal(36, CheckpointPlanner.LayersToRecompute(Qwen3_4B, 2000, 2 * GiB));
        Assert.Equal(36, CheckpointPlanner.LayersToRecompute(Qwen3_4B, 2000, 0));
    }

    [Fact]
    public void In_between_only_the_layers_that_do_not_fit_are_recomputed_and_more_tokens_need_more()
    {
        int at16 = CheckpointPlanner.LayersToRecompute(Qwen3_4B, 2000, 16 * GiB);
        // 16 GiB free: 12 GiB budget after the reserve; 2,000 tokens × 170 KB = 324 MiB per layer: 37 fit, so none.
        Assert.Equal(0, at16);
        int at8 = CheckpointPlanner.LayersToRecompute(Qwen3_4B, 4000, 8 * GiB);
        // 8 GiB free: 6 GiB budget; 4,000 tokens: 648 MiB per layer: 9 fit, 27 recomputed.
        Assert.Equal(27, at8);
        int previous = 0;
        foreach (long tokens in new long[] { 1000, 2000, 4000, 8000, 16000, 64000 })
        {
            int layers = CheckpointPlanner.LayersToRecompute(Qwen3_4B, tokens, 8 * GiB);
            Assert.True(layers >= previous, $"{tokens} tokens: {layers} layers < {previous}");
            previous = layers;
        }
        Assert.Equal(36, previous);
    }
}
