using RaftPipeline.Modeling.Decoder;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Model;

/// <summary>
/// What the trainer needs from a causal LM: the final hidden states (the loss projects only supervised positions
/// onto the vocabulary, chunk by chunk) and the parameters. Whatever has requires_grad is trained (LoRA factors,
/// or any unfrozen weight); everything else stays as it is.
/// </summary>
public interface ITrainableCausalLm
{
    /// <summary>
    /// Final normed hidden states [B, T, hidden] for right-padded <paramref name="inputIds"/> (a null
    /// <paramref name="attentionMask"/>: no padding); with
    /// <paramref name="segmentIds"/> (packed rows, see <see cref="Data.TrainingBatch.SegmentIds"/>) each packed row
    /// attends only to itself and its positions restart at 0.
    /// </summary>
    Tensor HiddenStates(Tensor inputIds, Tensor? attentionMask, Tensor? segmentIds = null);

    /// <summary>
    /// Called after each backward pass (each micro-batch): a model that computes through copies of its trainable
    /// tensors moves their gradients onto the parameters here.
    /// </summary>
    void AfterBackward();

    /// <summary>The vocabulary projection [vocab, hidden] (lm_head, or the tied embedding).</summary>
    Tensor OutputWeight { get; }

    /// <summary>The vocabulary projection with its logit transform (e.g. soft-capping), as the forward pass applies it.</summary>
    OutputHead Head { get; }

    /// <summary>Every parameter by its checkpoint key.</summary>
    IEnumerable<(string Name, Tensor Parameter)> NamedParameters();

    /// <summary>Dropout on (training) or off.</summary>
    void SetTraining(bool training);
}
