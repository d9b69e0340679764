namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// A faster way to run the decode steps of one generation after its prompt's forward pass, for greedy decoding (see
/// <see cref="DecodeAccelerators"/>). The generator keeps its own loop (stopping, padding of finished rows, callbacks);
/// the accelerator only turns each row's last token into its next one.
/// </summary>
public interface IDecodeAccelerator : IDisposable
{
    /// <summary>Takes over from the libtorch path: <paramref name="cache"/> holds the prompt's keys and values.</summary>
    void Start(KvCache cache);

    /// <summary>The greedy next token of every row, given each row's latest token (the pad id for finished rows).</summary>
    long[] Next(IReadOnlyList<long> lastTokens);
}
