using RaftPipeline.Modeling.Config;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>The transformer body (Qwen3Model): embed_tokens → layers → norm. Checkpoint prefix "model.".</summary>
public sealed class DecoderModel : nn.Module
{
    public Embedding embed_tokens;
    public ModuleList<DecoderLayer> layers;
    public RmsNorm norm;

    readonly RotaryEmbedding _rotary;

    public DecoderModel(ModelConfig config, ScalarType dtype, Device device) : base(nameof(DecoderModel))
    {
        Config = config;
        embed_tokens = new Embedding(config.VocabSize, config.HiddenSize, dtype, device);
        layers = new ModuleList<DecoderLayer>(
            Enumerable.Range(0, config.NumHiddenLayers).Select(i => new DecoderLayer(config, i, dtype, device)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device);
        _rotary = new RotaryEmbedding(config.HeadDim, config.RopeTheta);
        RegisterComponents();
    }

    public ModelConfig Config { get; }
    public RotaryEmbedding Rotary => _rotary;

    /// <summary>
    /// Runs one layer; replaceable so a trainer can wrap it (e.g. activation recomputation) without the decoder
    /// knowing. Arguments: layer, hidden, cos, sin, mask, isCausal, cache.
    /// </summary>
    public Func<DecoderLayer, Tensor, Tensor, Tensor, Tensor?, bool, KvCache?, Tensor> LayerRunner { get; set; } =
        (layer, h, cos, sin, mask, isCausal, cache) => layer.Forward(h, cos, sin, mask, isCausal, cache);

    /// <param name="inputIds">[B, T] int64</param>
    /// <param name="attentionMask">[B, past+T] 0/1, or null for no padding</param>
    /// <param name="positionIds">[B, T], or null: from the mask (see <see cref="AttentionMasks"/>), else past…past+T−1</param>
    /// <param name="segmentIds">
    /// [B, T] int64 for packed rows (equal ids on each packed row's tokens, 0 = padding), or null. When given, attention
    /// is causal within each packed row only and position ids restart at 0 per row; no cache.
    /// </param>
    /// <returns>final hidden states [B, T, hidden]</returns>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null, KvCache? cache = null,
        Tensor? segmentIds = null)
    {
        if (segmentIds is not null) return ForwardPacked(inputIds, segmentIds, positionIds, cache);
        using var scope = torch.NewDisposeScope();
        long b = inputIds.shape[0], t = inputIds.shape[1];
        long past = cache?.Length ?? 0;
        var device = inputIds.device;
        if (attentionMask is not null && attentionMask.shape[1] != past + t)
            throw new ArgumentException($"attention mask covers {attentionMask.shape[1]} positions; expected past ({past}) + new ({t})");

        bool padded = attentionMask is not null && attentionMask.eq(0).any().item<bool>();
        positionIds ??= padded
            ? AttentionMasks.PositionIds(attentionMask!, t)
            : torch.arange(past, past + t, ScalarType.Int64, device).unsqueeze(0).expand(b, t);

        // Without padding: SDPA's own causal mask for a fresh prompt, no mask for one new token over a cache;
        // otherwise an explicit boolean mask.
        Tensor? mask = null;
        bool isCausal = false;
        if (padded || (past > 0 && t > 1)) mask = AttentionMasks.Causal(padded ? attentionMask : null, b, past, t, device);
        else if (t > 1) isCausal = true;

        var h = embed_tokens.forward(inputIds);
        var (cos, sin) = _rotary.Compute(positionIds, h.dtype);
        foreach (var layer in layers) h = LayerRunner(layer, h, cos, sin, mask, isCausal, cache);
        cache?.Advance(t);
        return norm.forward(h).MoveToOuterDisposeScope();
    }

    Tensor ForwardPacked(Tensor inputIds, Tensor segmentIds, Tensor? positionIds, KvCache? cache)
    {
        if (cache is not null)
            throw new ArgumentException("packed rows (segmentIds) are for training and scoring; they cannot use a KV cache");
        if (segmentIds.shape.Length != 2 || segmentIds.shape[0] != inputIds.shape[0] || segmentIds.shape[1] != inputIds.shape[1])
            throw new ArgumentException(
                $"segment ids have shape [{string.Join(", ", segmentIds.shape)}]; expected the input ids' [{string.Join(", ", inputIds.shape)}]");
        using var scope = torch.NewDisposeScope();
        var segments = segmentIds.to(ScalarType.Int64);
        positionIds ??= AttentionMasks.SegmentPositionIds(segments);
        var mask = AttentionMasks.SegmentCausal(segments);
        var h = embed_tokens.forward(inputIds);
        var (cos, sin) = _rotary.Compute(positionIds, h.dtype);
        foreach (var layer in layers) h = LayerRunner(layer, h, cos, sin, mask, false, null);
        return norm.forward(h).MoveToOuterDisposeScope();
    }
}
