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
    readonly RotaryEmbedding? _localRotary;

    public DecoderModel(ModelConfig config, ScalarType dtype, Device device) : base(nameof(DecoderModel))
    {
        Config = config;
        embed_tokens = new Embedding(config.VocabSize, config.HiddenSize, dtype, device);
        layers = new ModuleList<DecoderLayer>(
            Enumerable.Range(0, config.NumHiddenLayers).Select(i => new DecoderLayer(config, i, dtype, device)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.RmsNormEps, dtype, device, config.Descriptor.NormWeightOffset);
        _rotary = RotaryEmbedding.For(config);
        // Gemma 3: sliding layers turn with their own base (rope_local_base_freq), unscaled.
        if (config.RopeLocalTheta is double local) _localRotary = new RotaryEmbedding(config.RotaryDim, local, null, config.MaxPositionEmbeddings);
        RegisterComponents();
    }

    public ModelConfig Config { get; }

    bool HasSlidingLayers => Config.SlidingWindow is not null && Enumerable.Range(0, Config.NumHiddenLayers).Any(Config.IsSlidingLayer);
    public RotaryEmbedding Rotary => _rotary;

    /// <summary>
    /// Runs one layer; replaceable so a trainer can wrap it (e.g. activation recomputation) without the decoder
    /// knowing. Arguments: layer, hidden, cos, sin, mask, isCausal, cache.
    /// </summary>
    public Func<DecoderLayer, Tensor, Tensor, Tensor, Tensor?, bool, KvCache?, Tensor> LayerRunner { get; set; } =
        (layer, h, cos, sin, mask, isCausal, cache) => layer.Forward(h, cos, sin, mask, isCausal, cache);

    /// <param name="inputIds">[B, T] int64</param>
    /// <param name="attentionMask">
    /// [B, past+T] 0/1, or null for no padding; or a prepared boolean [B, 1, T, past+T] mask (true = may attend), used as
    /// is, as transformers takes a 4-D mask: a decode loop keeps one and passes a view, instead of having it rebuilt from
    /// the 0/1 mask every step. A prepared mask needs <paramref name="positionIds"/>.
    /// </param>
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
        bool prepared = attentionMask is not null && attentionMask.dim() == 4;
        if (attentionMask is not null && attentionMask.shape[^1] != past + t)
            throw new ArgumentException($"attention mask covers {attentionMask.shape[^1]} positions; expected past ({past}) + new ({t})");
        if (prepared && positionIds is null)
            throw new ArgumentException("a prepared [B, 1, T, past+T] attention mask needs the position ids");

        bool padded = !prepared && attentionMask is not null && attentionMask.eq(0).any().item<bool>();
        positionIds ??= padded
            ? AttentionMasks.PositionIds(attentionMask!, t)
            : torch.arange(past, past + t, ScalarType.Int64, device).unsqueeze(0).expand(b, t);

        // Without padding: SDPA's own causal mask for a fresh prompt, no mask for one new token over a cache;
        // otherwise an explicit boolean mask.
        Tensor? mask = prepared ? attentionMask : null;
        bool isCausal = false;
        if (!prepared && (padded || (past > 0 && t > 1))) mask = AttentionMasks.Causal(padded ? attentionMask : null, b, past, t, device);
        else if (!prepared && t > 1) isCausal = true;

        // Sliding layers need their own mask once the keys reach past the window.
        Tensor? windowMask = HasSlidingLayers && past + t > Config.SlidingWindow!.Value
            ? AttentionMasks.WithinWindow(mask ?? AttentionMasks.Causal(padded ? attentionMask : null, b, past, t, device), past, Config.SlidingWindow.Value)
            : null;

        var h = Embed(inputIds);
        var rope = Rope(positionIds, h.dtype);
        for (int i = 0; i < layers.Count; i++)
        {
            bool windowed = windowMask is not null && Config.IsSlidingLayer(i);
            var (cos, sin) = rope(i);
            h = LayerRunner(layers[i], h, cos, sin, windowed ? windowMask : mask, !windowed && isCausal, cache);
        }
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
        var windowMask = HasSlidingLayers && inputIds.shape[1] > Config.SlidingWindow!.Value
            ? AttentionMasks.WithinWindow(mask, 0, Config.SlidingWindow.Value) : null;
        var h = Embed(inputIds);
        var rope = Rope(positionIds, h.dtype);
        for (int i = 0; i < layers.Count; i++)
        {
            var (cos, sin) = rope(i);
            h = LayerRunner(layers[i], h, cos, sin, windowMask is not null && Config.IsSlidingLayer(i) ? windowMask : mask, false, null);
        }
        return norm.forward(h).MoveToOuterDisposeScope();
    }

    /// <summary>Token embeddings; Gemma scales them by √hidden_size as a scalar of the activations' dtype (so bf16 rounds it).</summary>
    Tensor Embed(Tensor inputIds)
    {
        var h = embed_tokens.forward(inputIds);
        if (!Config.Descriptor.ScaleEmbeddings) return h;
        using var normalizer = torch.tensor(Math.Sqrt(Config.HiddenSize), h.dtype, h.device);
        return h * normalizer;
    }

    /// <summary>cos/sin for layer i: the local RoPE on Gemma 3's sliding layers, else the model's.</summary>
    Func<int, (Tensor Cos, Tensor Sin)> Rope(Tensor positionIds, ScalarType dtype)
    {
        var global = _rotary.Compute(positionIds, dtype);
        if (_localRotary is null) return _ => global;
        var local = _localRotary.Compute(positionIds, dtype);
        return i => Config.IsSlidingLayer(i) ? local : global;
    }
}
