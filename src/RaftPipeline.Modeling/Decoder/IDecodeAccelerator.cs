namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// A faster way to run the decode steps of one generation after its prompt's forward pass, for greedy decoding with
/// or without a repetition penalty (see
/// <see cref="DecodeAccelerators"/>). The generator keeps its own loop (stopping, padding of finished rows, callbacks);
/// the accelerator only turns each row's last token into its next one.
/// </summary>
public interface IDecodeAccelerator : IDisposable
{
    /// <summary>
    /// Takes over from the libtorch path: <paramref name="cache"/> holds the prompt's keys and values, and
    /// <paramref name="idsSoFar"/> [B, width] the prompt ids as the model saw them (left padding included).
    /// </summary>
    void Start(KvCache cache, TorchSharp.torch.Tensor idsSoFar);

    /// <summary>
    /// The greedy next token of every row (after the repetition penalty, if any), given each row's latest token (the
    /// pad id for finished rows).
    /// </summary>
    long[] Next(IReadOnlyList<long> lastTokens);
}
