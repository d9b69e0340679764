using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Lora;
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
public sealed class DecoderTrainingModel : ITrainableCausalLm, IDisposable
{
    readonly CausalLM _model;
    readonly LoraComputeWeights? _compute;

    /// <param name="loraComputeCopies">
    /// Run LoRA slots through compute copies of their factors (<see cref="LoraComputeWeights"/>): null decides (on for a
    /// bf16 model on CUDA with our kernels, where it halves the kernels a step launches), true forces it (plain ops
    /// off CUDA, in the model's dtype: for tests), false keeps each slot's own forward.
    /// </param>
    public DecoderTrainingModel(CausalLM model, bool gradientCheckpointing, int? checkpointedLayers = null,
        bool? loraComputeCopies = null)
    {
        _model = model;
        if (loraComputeCopies != false)
            _compute = LoraComputeWeights.TryCreate(model, model.OutputWeight.dtype, useKernels: loraComputeCopies is null);
        if (checkpointedLayers is < 0)
            throw new ArgumentOutOfRangeException(nameof(checkpointedLayers), checkpointedLayers, "expected a layer count >= 0");
        if (!gradientCheckpointing) return;
        int limit = checkpointedLayers ?? int.MaxValue;
        var recomputed = model.model.layers.Take(limit).ToHashSet();
        model.model.LayerRunner = (layer, h, cos, sin, mask, isCausal, cache) => recomputed.Contains(layer)
            ? RecomputingRunner(layer, h, cos, sin, mask, isCausal, cache)
            : layer.Forward(h, cos, sin, mask, isCausal, cache);
    }

    /// <summary>Whether LoRA compute copies are in use (see the constructor).</summary>
    public bool UsesLoraComputeCopies => _compute is not null;

    IReadOnlyList<Tensor> TrainableTensorsOf(DecoderLayer layer) => _compute is { Attached: true } c
        ? c.TrainableTensorsOf(layer)
        : layer.parameters().Where(p => p.requires_grad).Cast<Tensor>().ToList();

    public CausalLM Model => _model;

    Tensor RecomputingRunner(DecoderLayer layer, Tensor h, Tensor cos, Tensor sin, Tensor? mask, bool isCausal, KvCache? cache)
    {
        if (cache is not null || !is_grad_enabled())
            return layer.Forward(h, cos, sin, mask, isCausal, cache);
        // cos/sin/mask belong to the decoder's forward scope, which ends before backward: keep views alive in the
        // caller's scope (the training step) so the recompute can read them.
        var keptCos = cos.alias().MoveToOuterDisposeScope();
        var keptSin = sin.alias().MoveToOuterDisposeScope();
        var keptMask = mask?.alias().MoveToOuterDisposeScope();
        return RecomputeCheckpoint.Run(x => layer.Forward(x, keptCos, keptSin, keptMask, isCausal, null), h, TrainableTensorsOf(layer));
    }

    public Tensor HiddenStates(Tensor inputIds, Tensor? attentionMask, Tensor? segmentIds = null)
    {
        if (_compute is { Attached: true } c) c.Refresh(); // the masters may have stepped since the last forward
        return _model.model.Forward(inputIds, attentionMask, segmentIds: segmentIds);
    }

    public void AfterBackward()
    {
        if (_compute is { Attached: true } c) c.CollectGradients();
    }

    public Tensor OutputWeight => _model.OutputWeight;

    public OutputHead Head => _model.Head;

    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters() =>
        _model.named_parameters().Select(p => (p.name, (Tensor)p.parameter));

    /// <summary>Frees the LoRA compute copies and their gradient buffers (the model itself belongs to the caller).</summary>
    public void Dispose() => _compute?.Dispose();

    public void SetTraining(bool training)
    {
        if (training) _model.train(); else _model.eval();
        // Copies only while training: generation and scoring afterwards read the masters through the slots themselves.
        _compute?.Attach(training);
    }
}
