using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// A decoder-only language model (Qwen3ForCausalLM, and Qwen2/Llama by config): <c>model</c> plus <c>lm_head</c>.
/// Field names are the checkpoint keys, so named_parameters() yields exactly transformers' state-dict keys
/// (model.layers.0.self_attn.q_proj.weight, …). With tied embeddings lm_head is absent and the logits use
/// model.embed_tokens.weight, as transformers saves tied models without an lm_head.weight key.
/// Parameters start uninitialised: load a checkpoint (<see cref="Loading.PretrainedLoader"/>) or initialise.
/// </summary>
public sealed class CausalLM : nn.Module<Tensor, Tensor>
{
    public DecoderModel model;
    public Linear? lm_head;

    public CausalLM(ModelConfig config, ScalarType dtype, Device device) : base(nameof(CausalLM))
    {
        Config = config;
        Dtype = dtype;
        Device = device;
        model = new DecoderModel(config, dtype, device);
        lm_head = config.TieWordEmbeddings ? null : new Linear(config.HiddenSize, config.VocabSize, false, dtype, device);
        Head = new OutputHead(() => OutputWeight, config.FinalLogitSoftcapping);
        RegisterComponents();
    }

    /// <summary>The output projection and its logit transform, shared with the training loss.</summary>
    public OutputHead Head { get; }

    public ModelConfig Config { get; }
    public ScalarType Dtype { get; }
    /// <summary>Where the weights are.</summary>
    public Device Device { get; private set; }

    /// <summary>
    /// Moves every parameter and buffer to <paramref name="device"/> and records it as <see cref="Device"/>: for a
    /// loader that builds on the CPU and places the model once its weights are in (see ModelFolderLoader.LoadNf4).
    /// </summary>
    internal void PlaceOn(Device device)
    {
        this.to(device);
        Device = device;
    }

    /// <summary>The output projection weight [vocab, hidden]: lm_head's, or the embedding table when tied.</summary>
    public Tensor OutputWeight => lm_head?.weight ?? model.embed_tokens.weight;

    /// <summary>Logits for every position of <paramref name="inputIds"/> [B, T] (no padding, no cache).</summary>
    public override Tensor forward(Tensor inputIds) => Forward(inputIds).Logits;

    /// <param name="inputIds">[B, T] int64</param>
    /// <param name="attentionMask">[B, past+T] 0/1 (1 = real token), or null, or a prepared boolean [B, 1, T, past+T] mask
    /// (see <see cref="DecoderModel.Forward"/>)</param>
    /// <param name="positionIds">[B, T], or null to derive them from the mask / the cache length</param>
    /// <param name="cache">KV cache to read past positions from and append these to (inference only)</param>
    /// <param name="labels">[B, T] int64 targets aligned with inputIds (shifted inside, −100 ignored), or null</param>
    /// <param name="logitsToKeep">0: logits for all positions; k: only the last k (generation needs 1)</param>
    /// <param name="segmentIds">[B, T] packed-row ids (0 = padding), or null; see <see cref="DecoderModel.Forward"/></param>
    public CausalLMOutput Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null,
        KvCache? cache = null, Tensor? labels = null, int logitsToKeep = 0, Tensor? segmentIds = null)
    {
        if (labels is not null && logitsToKeep != 0)
            throw new ArgumentException("labels need the logits of every position; pass logitsToKeep = 0");
        using var scope = torch.NewDisposeScope();
        var hidden = model.Forward(inputIds, attentionMask, positionIds, cache, segmentIds);
        if (logitsToKeep > 0 && logitsToKeep < hidden.shape[1])
            hidden = hidden.narrow(1, hidden.shape[1] - logitsToKeep, logitsToKeep);
        var logits = Head.Logits(hidden);
        Tensor? loss = labels is null ? null : ShiftedCrossEntropy(logits, labels);
        return new CausalLMOutput(logits.MoveToOuterDisposeScope(), loss?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// transformers' ForCausalLMLoss: logits upcast to fp32, position t predicts label t+1, labels −100 ignored,
    /// mean over the counted tokens.
    /// </summary>
    public static Tensor ShiftedCrossEntropy(Tensor logits, Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        long v = logits.shape[^1];
        long t = logits.shape[1];
        var predicted = logits.narrow(1, 0, t - 1).to(ScalarType.Float32).reshape(-1, v);
        var targets = labels.narrow(1, 1, t - 1).reshape(-1);
        var loss = nn.functional.cross_entropy(predicted, targets, ignore_index: -100);
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>The linear slot at a module path such as <c>model.layers.0.self_attn.q_proj</c>.</summary>
    public LinearSlot GetLinear(string path)
    {
        var (host, slot) = ResolveSlot(path);
        return host.GetSlot(slot);
    }

    /// <summary>
    /// Swaps the linear slot at <paramref name="path"/> (e.g. <c>model.layers.0.self_attn.q_proj</c>) for
    /// <paramref name="replacement"/>, keeping the registered-submodule table in step. Returns the old slot.
    /// </summary>
    public LinearSlot ReplaceLinear(string path, LinearSlot replacement)
    {
        var (host, slot) = ResolveSlot(path);
        return host.ReplaceSlot(slot, replacement);
    }

    /// <summary>Every swappable projection path (q,k,v,o,gate,up,down of every layer and every expert), in layer order.</summary>
    public IEnumerable<string> LinearPaths()
    {
        for (int i = 0; i < model.layers.Count; i++)
        {
            foreach (var s in model.layers[i].self_attn.SlotNames) yield return $"model.layers.{i}.self_attn.{s}";
            if (model.layers[i].DenseMlp is { } mlp)
                foreach (var s in mlp.SlotNames) yield return $"model.layers.{i}.mlp.{s}";
            if (model.layers[i].Moe is { } moe)
                for (int e = 0; e < moe.experts.Count; e++)
                    foreach (var s in moe.experts[e].SlotNames) yield return $"model.layers.{i}.mlp.experts.{e}.{s}";
        }
    }

    (SlotHostModule Host, string Slot) ResolveSlot(string path)
    {
        var parts = path.Split('.');
        nn.Module current = this;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            var next = current.named_children().FirstOrDefault(c => c.name == parts[i]).module;
            current = next ?? throw new ArgumentException(
                $"no module '{string.Join('.', parts.Take(i + 1))}' on the path '{path}'");
        }
        if (current is not SlotHostModule host)
            throw new ArgumentException($"'{path}' is not a linear slot (its parent is a {current.GetType().Name}, which holds no slots)");
        return (host, parts[^1]);
    }
}
