using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Training.Checkpointing;
using static TorchSharp.torch;

namespace RaftPipeline.Training.Model;

/// <summary>
/// The Modeling decoder (<see cref="CausalLM"/>) seen by the trainer. With gradient checkpointing on, every decoder
/// layer runs through <see cref="RecomputeCheckpoint"/> via the decoder's <c>LayerRunner</c> hook: only each layer's
/// input is kept for backward, and the layer is recomputed there. <c>checkpointedLayers</c> limits that to the first
/// K layers: the others keep their activations, so a memory budget buys back recompute time layer by layer (the
/// recompute costs about half a layer's forward + backward; its saving is one layer's activations).
/// </summary>
public sealed class DecoderTrainingModel : ITrainableCausalLm
{
    readonly CausalLM _model;

    public DecoderTrainingModel(CausalLM model, bool gradientCheckpointing, int? checkpointedLayers = null)
    {
        _model = model;
        if (checkpointedLayers is < 0)
            throw new ArgumentOutOfRangeException(nameof(checkpointedLayers), checkpointedLayers, "expected a layer count >= 0");
        if (!gradientCheckpointing) return;
        int limit = checkpointedLayers ?? int.MaxValue;
        var recomputed = model.model.layers.Take(limit).ToHashSet();
        model.model.LayerRunner = (layer, h, cos, sin, mask, isCausal, cache) => recomputed.Contains(layer)
            ? RecomputingRunner(layer, h, cos, sin, mask, isCausal, cache)
            : layer.Forward(h, cos, sin, mask, isCausal, cache);
    }

    public CausalLM Model => _model;

    static Tensor RecomputingRunner(DecoderLayer layer, Tensor h, Tensor cos, Tensor sin, Tensor? mask, bool isCausal, KvCache? cache)
    {
        if (cache is not null || !is_grad_enabled())
            return layer.Forward(h, cos, sin, mask, isCausal, cache);
        // cos/sin/mask belong to the decoder's forward scope, which ends before backward: keep views alive in the
        // caller's scope (the training step) so the recompute can read them.
        var keptCos = cos.alias().MoveToOuterDisposeScope();
        var keptSin = sin.alias().MoveToOuterDisposeScope();
        var keptMask = mask?.alias().MoveToOuterDisposeScope();
        var trainable = layer.parameters().Where(p => p.requires_grad).Cast<Tensor>().ToList();
        return RecomputeCheckpoint.Run(x => layer.Forward(x, keptCos, keptSin, keptMask, isCausal, null), h, trainable);
    }

    public Tensor HiddenStates(Tensor inputIds, Tensor? attentionMask, Tensor? segmentIds = null) =>
        _model.model.Forward(inputIds, attentionMask, segmentIds: segmentIds);

    public Tensor OutputWeight => _model.OutputWeight;

    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters() =>
        _model.named_parameters().Select(p => (p.name, (Tensor)p.parameter));

    public void SetTraining(bool training)
    {
        if (training) _model.train(); else _model.eval();
    }
}
