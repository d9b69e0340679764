using RaftPipeline.Modeling.Native;
using RaftPipeline.Training.Data;
using RaftPipeline.Training.Loss;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Tests.Loss;

public class CausalLmLossTests
{
    public CausalLmLossTests() => TorchRuntime.EnsureInitialized();

    static (Tensor hidden, Tensor weight, Tensor labels) Case(bool weightGrad)
    {
        var gen = new Generator(7);
        var hidden = randn([3, 9, 16], generator: gen, dtype: ScalarType.Float64).requires_grad_();
        var weight = randn([50, 16], generator: gen, dtype: ScalarType.Float64).requires_grad_(weightGrad);
        var labels = randint(0, 50, [3, 9], generator: gen, dtype: ScalarType.Int64);
        labels[0, ..4] = tensor(-100L);      // context of row 0
        labels[1, ..] = tensor(-100L);       // a row with no answer left
        labels[2, 7..] = tensor(-100L);      // padding of row 2
        return (hidden, weight, labels);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(4, true)]
    [InlineData(1024, true)]
    [InlineData(3, false)]
    public void Chunked_loss_and_gradients_equal_full_logits_cross_entropy(int chunk, bool weightGrad)
    {
        var (h1, w1, labels) = Case(weightGrad);
        var (h2, w2, _) = Case(weightGrad);

        // Reference: HF's ForCausalLMLoss on full logits (shift, fp32, ignore_index -100, sum / count).
        var logits = h1.matmul(w1.t());
        var reference = nn.functional.cross_entropy(
            logits[.., ..^1, ..].reshape(-1, 50), labels[.., 1..].reshape(-1), ignore_index: -100, reduction: nn.Reduction.Sum);
        reference.backward();

        var ours = CausalLmLoss.SupervisedSum(h2, w2, labels, chunk);
        ours.backward();

        Assert.Equal(5 + 0 + 6, CausalLmLoss.SupervisedCount(labels));
        Assert.Equal(reference.item<double>(), ours.item<double>(), 12);
        Assert.True(h1.grad!.allclose(h2.grad!, rtol: 1e-12, atol: 1e-12), "hidden gradients differ");
        if (weightGrad) Assert.True(w1.grad!.allclose(w2.grad!, rtol: 1e-12, atol: 1e-12), "weight gradients differ");
        else Assert.Null(w2.grad);
        // Positions whose label is ignored (and the last position, which predicts nothing) get no gradient.
        Assert.Equal(0.0, h2.grad![1].abs().sum().item<double>());
        Assert.Equal(0.0, h2.grad![0, 8].abs().sum().item<double>());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void A_soft_capped_head_matches_autograd_through_cap_tanh_in_the_chunked_loss(int chunk)
    {
        // Gemma 2's final_logit_softcapping: logits = cap · tanh(h·Wᵀ / cap); a small cap so that it changes the loss.
        const double cap = 2.5;
        var (h1, w1, labels) = Case(weightGrad: true);
        var (h2, w2, _) = Case(weightGrad: true);
        var logits = (h1.matmul(w1.t()) / cap).tanh() * cap;
        var reference = nn.functional.cross_entropy(
            logits[.., ..^1, ..].reshape(-1, 50), labels[.., 1..].reshape(-1), ignore_index: -100, reduction: nn.Reduction.Sum);
        reference.backward();
        var uncapped = CausalLmLoss.SupervisedSum(h1.detach(), w1.detach(), labels, chunk).item<double>();

        var ours = CausalLmLoss.SupervisedSum(h2, new RaftPipeline.Modeling.Decoder.OutputHead(() => w2, cap), labels, chunk);
        ours.backward();

        Assert.True(Math.Abs(uncapped - reference.item<double>()) > 1.0, "the cap should matter in this case");
        Assert.Equal(reference.item<double>(), ours.item<double>(), 12);
        Assert.True(h1.grad!.allclose(h2.grad!, rtol: 1e-10, atol: 1e-12), "hidden gradients differ");
        Assert.True(w1.grad!.allclose(w2.grad!, rtol: 1e-10, atol: 1e-12), "weight gradients differ");
    }

    [Fact]
    public void The_batch_overload_sums_the_same_rows_as_the_labels_overload()
    {
        var collator = new CompletionOnlyCollator(new CollatorOptions([5, 6], 16, 0));
        var rows = new[]
        {
            collator.Label([9, 5, 6, 10, 11, 12]),
            collator.Label([9, 9, 9, 5, 6, 13, 14, 15, 16]),
        };
        var batch = collator.Collate(rows);
        var gen = new Generator(3);
        var hidden = randn([2, 9, 8], generator: gen, dtype: ScalarType.Float64);
        var weight = randn([20, 8], generator: gen, dtype: ScalarType.Float64);
        double byLabels = CausalLmLoss.SupervisedSum(hidden, weight, batch.Labels).item<double>();
        double byBatch = CausalLmLoss.SupervisedSum(hidden, weight, batch).item<double>();
        Assert.Equal(byLabels, byBatch, 12);
        Assert.True(byBatch > 0);
    }
}
