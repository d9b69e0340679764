using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Modeling.Chat;

/// <summary>
/// Generated ids → the text a reader sees, piece by piece: whole characters only (<see cref="StreamingDecoder"/>),
/// nothing from the first stop string on (<see cref="StopStringFilter"/>). The pieces concatenate to
/// <see cref="ChatEngine.AnswerText"/> of all the ids.
/// </summary>
public sealed class AnswerTextStream(HuggingFaceTokenizer tokenizer, IReadOnlyList<string> stopStrings)
{
    readonly StreamingDecoder _decoder = new(tokenizer);
    readonly StopStringFilter _stops = new(stopStrings);

    /// <summary>Adds a token; returns the text it releases ("" while a character or a possible stop string is partial).</summary>
    public string Push(int id) => _stops.Push(_decoder.Push(id));

    /// <summary>Whatever is held back at the end.</summary>
    public string Flush() => _stops.Push(_decoder.Flush()) + _stops.Flush();
}
