using System.Threading.Channels;
using RaftPipeline.Modeling.Generation;

namespace RaftPipeline.Modeling.Chat;

/// <summary>
/// Concurrent requests → one decode loop on its own thread. The loop takes every request waiting when it is free (up
/// to <see cref="MaxBatchSize"/>) and runs them as one left-padded batch, each row with its own options, seed, stop
/// strings and cancellation (<see cref="TextGenerator"/>'s rows): every decode step is one forward over all of them.
/// A request that arrives while a batch runs waits for the next batch (static batching: a running batch does not
/// take new rows, since its KV cache has one shared width). Each request's text streams into its own channel.
/// </summary>
internal sealed class GenerationQueue : IDisposable
{
    readonly ChatEngine _engine;
    readonly Channel<Request> _incoming = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    readonly Thread _loop;
    readonly Lock _statsLock = new();
    GenerationStats _stats = new(0, 0, 0, 0, 0);

    public GenerationQueue(ChatEngine engine, int maxBatchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        _engine = engine;
        MaxBatchSize = maxBatchSize;
        _loop = new Thread(Loop) { IsBackground = true, Name = "raft-generation" };
        _loop.Start();
    }

    public int MaxBatchSize { get; }

    public GenerationStats Stats
    {
        get { lock (_statsLock) return _stats; }
    }

    /// <exception cref="ObjectDisposedException">The engine is shutting down.</exception>
    public ChannelReader<ChatStreamUpdate> Enqueue(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken cancellation)
    {
        var output = Channel.CreateUnbounded<ChatStreamUpdate>(new UnboundedChannelOptions { SingleWriter = true });
        var request = new Request(prompt, options, cancellation, output.Writer, new AnswerTextStream(_engine.Tokenizer, options.StopStrings));
        if (!_incoming.Writer.TryWrite(request)) throw new ObjectDisposedException(nameof(ChatEngine), "the engine is shutting down");
        return output.Reader;
    }

    void Loop()
    {
        var reader = _incoming.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            var batch = new List<Request>();
            while (batch.Count < MaxBatchSize && reader.TryRead(out var request))
            {
                if (request.Cancellation.IsCancellationRequested) request.Finish(new GeneratedSequence(request.Prompt, [], FinishReason.Cancelled), _engine);
                else batch.Add(request);
            }
            if (batch.Count > 0) Run(batch);
        }
    }

    void Run(List<Request> batch)
    {
        IReadOnlyList<GeneratedSequence> results;
        try
        {
            var rows = batch.Select(r => new GenerationRow(r.Prompt, r.Options, r.Cancellation)).ToList();
            lock (_engine.ModelLock)
                results = TextGenerator.Generate(_engine.Model, rows, token => batch[token.Sequence].Push(token.TokenId), _engine.AnswerText);
        }
        catch (Exception e)
        {
            foreach (var r in batch) r.Output.TryComplete(e);
            return;
        }
        for (int i = 0; i < batch.Count; i++) batch[i].Finish(results[i], _engine);
        lock (_statsLock)
        {
            _stats = new GenerationStats(
                _stats.Batches + 1,
                Math.Max(_stats.LargestBatch, batch.Count),
                _stats.Sequences + batch.Count,
                _stats.Cancelled + results.Count(r => r.Finish == FinishReason.Cancelled),
                _stats.GeneratedTokens + results.Sum(r => r.NewIds.Count));
        }
    }

    /// <summary>Stops taking requests; the loop finishes what it holds, then ends.</summary>
    public void Dispose()
    {
        _incoming.Writer.TryComplete();
        _loop.Join();
    }

    sealed record Request(IReadOnlyList<int> Prompt, GenerationOptions Options, CancellationToken Cancellation,
        ChannelWriter<ChatStreamUpdate> Output, AnswerTextStream Text)
    {
        public void Push(int id)
        {
            var piece = Text.Push(id);
            if (piece.Length > 0) Output.TryWrite(new ChatStreamUpdate(piece));
        }

        public void Finish(GeneratedSequence result, ChatEngine engine)
        {
            var rest = Text.Flush();
            if (rest.Length > 0) Output.TryWrite(new ChatStreamUpdate(rest));
            Output.TryWrite(new ChatStreamUpdate("", engine.Answer(result, Options.StopStrings)));
            Output.TryComplete();
        }
    }
}
