using System.Runtime.InteropServices;
using RaftPipeline.Modeling.Decoder;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Generation;

/// <summary>
/// One batch of rows decoded together (the loop behind <see cref="TextGenerator"/>): prompts left-padded into one
/// prefill, then one forward of one token per unfinished row per step over a static KV cache.
/// <para>
/// Everything a step needs lives in buffers sized once for the batch's final width: the ids so far [B, width], a
/// boolean key mask [B, 1, 1, width] (false on left padding) handed to the model as a view, the next position of every
/// row [B, 1] bumped in place, and the KV cache. A step creates no host arrays or lists: the picked ids come back as one
/// int64 per row into a reused array. A row's position ids count from 0 at its first real token, its repetition penalty
/// sees only its own ids (the left padding repeats the row's first token, which the penalty sees anyway), and no real
/// query attends to padding: so a row decodes the same tokens in a batch as alone.
/// </para>
/// <para>
/// Rows that finish are dropped from the batch (from every buffer and the cache), so later steps compute only the rows
/// still running; except when one sampling generator draws for the whole batch (<see cref="TextGenerator"/>'s shared
/// options, as transformers): its draws depend on every row, so finished rows stay, fed the pad id, as transformers does.
/// </para>
/// </summary>
internal sealed class BatchDecode : IDisposable
{
    readonly CausalLM _model;
    readonly IReadOnlyList<GenerationRow> _rows;
    readonly GenerationOptions? _shared;
    readonly GenerationOptions? _batchProcessors;
    readonly Action<GeneratedToken>? _onToken;
    readonly Func<IReadOnlyList<int>, string>? _decode;
    readonly IReadOnlyList<int>? _sequenceIds;
    readonly bool _dropFinished;
    readonly int _width;
    readonly int _capacity;
    readonly int _padId;

    // Per row (indexed by the row's position in _rows).
    readonly List<int>[] _newIds;
    readonly FinishReason[] _finish;
    readonly bool[] _done;
    readonly HashSet<int>[] _eos;
    readonly torch.Generator?[] _generators;

    // Per batch slot: the row it holds; the first _count slots are in the batch.
    readonly int[] _slotRow;
    readonly long[] _picked;
    int _count;

    Tensor _ids;
    Tensor? _keyMask;
    Tensor _positions;
    Tensor? _finishedMask;
    readonly KvCache _cache;
    // The steps after the prompt's may run on a decode accelerator (DecodeAccelerators: the CUDA decode session) that
    // keeps every row of the batch, finished ones fed the pad id; _lastTokens is indexed by row.
    IDecodeAccelerator? _accelerator;
    readonly long[] _lastTokens;

    /// <param name="shared">One set of options and one sampling generator for the whole batch, or null: each row's own.</param>
    /// <param name="sequenceIds">The <see cref="GeneratedToken.Sequence"/> reported for each row (default: its index).</param>
    public BatchDecode(CausalLM model, IReadOnlyList<GenerationRow> rows, GenerationOptions? shared, Action<GeneratedToken>? onToken,
        Func<IReadOnlyList<int>, string>? decode, IReadOnlyList<int>? sequenceIds = null)
    {
        _model = model;
        _rows = rows;
        _shared = shared;
        _onToken = onToken;
        _decode = decode;
        _sequenceIds = sequenceIds;
        int batch = rows.Count;
        _width = rows.Max(r => r.PromptIds.Count);
        _capacity = _width + rows.Max(r => r.Options.MaxNewTokens);
        _padId = rows[0].Options.PadTokenId;
        // Rows whose processors agree (all but the seed) are processed as one [B, vocab] batch; the stages' case.
        _batchProcessors = shared ?? (rows.All(r => SameProcessors(r.Options, rows[0].Options)) ? rows[0].Options : null);
        _dropFinished = shared is not { DoSample: true };

        _newIds = Enumerable.Range(0, batch).Select(_ => new List<int>()).ToArray();
        _finish = new FinishReason[batch];
        _done = rows.Select(r => r.Options.MaxNewTokens == 0).ToArray();
        _eos = rows.Select(r => r.Options.EosTokenIds.ToHashSet()).ToArray();
        // The draw happens on the CPU whatever the model's device: TorchSharp 0.107's Generator(seed, cuda) still makes
        // a CPU generator, which CUDA's multinomial refuses (measured on the H100), and one CPU stream makes a seed
        // mean the same draws on every device. The probabilities are one vocabulary-sized row per sequence.
        // Shared options: one generator for the batch (as transformers); rows: one per sampling row.
        _generators = shared is not null
            ? [shared.DoSample ? NewGenerator(shared.Seed) : null]
            : rows.Select(r => r.Options.DoSample ? NewGenerator(r.Options.Seed) : null).ToArray();
        _slotRow = Enumerable.Range(0, batch).ToArray();
        _picked = new long[batch];
        _count = batch;

        var idsHost = new long[batch * _capacity];
        var keysHost = new bool[batch * _capacity];
        var positionsHost = new long[batch];
        bool padded = false;
        for (int i = 0; i < batch; i++)
        {
            var prompt = rows[i].PromptIds;
            int pad = _width - prompt.Count;
            padded |= pad > 0;
            positionsHost[i] = prompt.Count; // the first new token's position: the prompt counts from 0
            for (int j = 0; j < _capacity; j++)
            {
                // Padding repeats the row's first token: masked out for attention, and already among the ids the
                // repetition penalty sees, so the penalty is the row's own (transformers' would also hit the pad id).
                idsHost[i * _capacity + j] = j < pad ? prompt[0] : j < _width ? prompt[j - pad] : _padId;
                keysHost[i * _capacity + j] = j >= pad;
            }
        }
        _ids = torch.tensor(idsHost, [batch, _capacity], device: model.Device).DetachFromDisposeScope();
        // Without padding no mask is needed (SDPA's causal prefill, then one query over a cache), as for one row alone.
        _keyMask = padded ? torch.tensor(keysHost, [batch, 1, 1, _capacity], device: model.Device).DetachFromDisposeScope() : null;
        _positions = torch.tensor(positionsHost, [batch, 1], device: model.Device).DetachFromDisposeScope();
        _cache = new KvCache(model.Config.NumHiddenLayers, _capacity);
        _lastTokens = new long[batch];
        _accelerator = DecodeAccelerators.Open(model, rows.Select(r => _width - r.PromptIds.Count).ToArray(), _capacity,
            rows.Select(r => r.Options).ToArray());
    }

    static bool SameProcessors(GenerationOptions a, GenerationOptions b) =>
        a.DoSample == b.DoSample && a.RepetitionPenalty == b.RepetitionPenalty
        && (!a.DoSample || (a.Temperature == b.Temperature && a.TopK == b.TopK && a.TopP == b.TopP));

    static torch.Generator NewGenerator(long? seed) => new((ulong)(seed ?? DateTime.UtcNow.Ticks), torch.CPU);

    public IReadOnlyList<GeneratedSequence> Run(CancellationToken cancellation)
    {
        using var noGrad = torch.no_grad();
        int maxNew = _capacity - _width;
        int length = _width;
        var rotary = _model.model.Rotary;
        bool cachedLong = false;
        if (_done.Contains(true)) OnRowsFinished(); // rows asked for no new tokens
        for (int step = 0; step < maxNew; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            bool finished = false;
            for (int s = 0; s < _count; s++)
            {
                int i = _slotRow[s];
                if (!_done[i] && _rows[i].Cancellation.IsCancellationRequested)
                {
                    _done[i] = true;
                    _finish[i] = FinishReason.Cancelled;
                    finished = true;
                }
            }
            if (finished) OnRowsFinished();
            if (!AnyRunning()) break;

            // longrope turns every position of a call with the long factors once the call's longest sequence passes the
            // original context; keys cached with the other set are stale, so the rows are encoded again from the start
            // (transformers' Phi3ForCausalLM.prepare_inputs_for_generation drops its cache at that step).
            bool longFactors = rotary.UsesLongFactors(LongestRow() + step);
            bool reencode = step > 0 && longFactors != cachedLong;
            cachedLong = longFactors;
            if (reencode) _cache.Rewind();
            if (step > 0 && !reencode && _accelerator is not null)
            {
                using var scope = torch.NewDisposeScope();
                var all = _accelerator.Next(_lastTokens);
                for (int s = 0; s < _count; s++) _picked[s] = all[_slotRow[s]];
                _ids.narrow(1, length, 1).copy_(FromPicked().view(_count, 1));
            }
            else using (var scope = torch.NewDisposeScope())
            {
                var logits = step == 0 || reencode
                    ? _model.Forward(_ids.narrow(1, 0, length), _keyMask is null ? null : KeyMask(length).reshape(_count, length),
                        cache: _cache, logitsToKeep: 1).Logits
                    : _model.Forward(_ids.narrow(1, length - 1, 1), _keyMask is null ? null : KeyMask(length), _positions,
                        _cache, logitsToKeep: 1).Logits;
                if (step > 0) _positions.add_(1);
                // transformers processes the last position's logits in fp32.
                var scores = logits.select(1, 0);
                if (scores.dtype != ScalarType.Float32) scores = scores.to(ScalarType.Float32);
                var next = Pick(scores, _ids.narrow(1, 0, length));
                _ids.narrow(1, length, 1).copy_(next.view(_count, 1));
                // The accelerator takes over from the prompt's cache while it still holds every row.
                if (step == 0 && _accelerator is not null)
                {
                    if (_count == _rows.Count) _accelerator.Start(_cache, _ids.narrow(1, 0, _width));
                    else
                    {
                        _accelerator.Dispose();
                        _accelerator = null;
                    }
                }
            }
            length++;
            if (_accelerator is not null)
            {
                Array.Fill(_lastTokens, _padId);
                for (int s = 0; s < _count; s++) _lastTokens[_slotRow[s]] = _picked[s];
            }

            finished = false;
            for (int s = 0; s < _count; s++)
            {
                int i = _slotRow[s];
                if (_done[i]) continue;
                int token = (int)_picked[s];
                _newIds[i].Add(token);
                _onToken?.Invoke(new GeneratedToken(_sequenceIds?[i] ?? i, step, token));
                var options = _rows[i].Options;
                if (_eos[i].Contains(token))
                {
                    _done[i] = true;
                    _finish[i] = FinishReason.EndOfSequence;
                }
                else if (options.StopStrings.Count > 0 && options.StopStrings.Any(_decode!(_newIds[i]).Contains))
                {
                    _done[i] = true;
                    _finish[i] = FinishReason.StopString;
                }
                else if (_newIds[i].Count >= options.MaxNewTokens)
                {
                    _done[i] = true; // finish stays Length
                }
                finished |= _done[i];
            }
            if (finished) OnRowsFinished();
        }
        return Enumerable.Range(0, _rows.Count).Select(i => new GeneratedSequence(_rows[i].PromptIds, _newIds[i], _finish[i])).ToList();
    }

    /// <summary>The longest prompt among the rows in the batch: with the step, the length of this step's call.</summary>
    int LongestRow()
    {
        int longest = 0;
        for (int s = 0; s < _count; s++) longest = Math.Max(longest, _rows[_slotRow[s]].PromptIds.Count);
        return longest;
    }

    bool AnyRunning()
    {
        for (int s = 0; s < _count; s++)
            if (!_done[_slotRow[s]]) return true;
        return false;
    }

    /// <summary>The key mask's view over the first <paramref name="length"/> positions: [B, 1, 1, length].</summary>
    Tensor KeyMask(long length) => _keyMask!.narrow(3, 0, length);

    /// <summary>
    /// The next id of every row in the batch, as an int64 [B] tensor on the model's device, also read into
    /// <see cref="_picked"/>: the processors over all rows at once where their settings agree, then argmax, or one
    /// draw per row from its own generator, or one draw over the batch from the shared one.
    /// </summary>
    Tensor Pick(Tensor scores, Tensor idsSoFar)
    {
        if (_batchProcessors is not { } options) return PickRowByRow(scores, idsSoFar);
        if (LogitsProcessors.AnyEnabled(options)) LogitsProcessors.ApplyInPlace(scores, idsSoFar, options);
        Tensor next;
        if (!options.DoSample) next = scores.argmax(-1);
        else if (_shared is not null)
        {
            next = scores.softmax(-1).cpu().multinomial(1, generator: _generators[0]).view(_count);
        }
        else
        {
            var probabilities = scores.softmax(-1).cpu();
            for (int s = 0; s < _count; s++)
            {
                int i = _slotRow[s];
                _picked[s] = _done[i] ? _padId : probabilities.narrow(0, s, 1).multinomial(1, generator: _generators[i]).item<long>();
            }
            return FromPicked();
        }
        if (_finishedMask is not null) next = next.masked_fill(_finishedMask, _padId); // finished rows are fed pad, as transformers does
        ReadIds(next);
        return next;
    }

    /// <summary>Rows with settings of their own (a server's mixed requests): each unfinished row processed and picked on its slice.</summary>
    Tensor PickRowByRow(Tensor scores, Tensor idsSoFar)
    {
        for (int s = 0; s < _count; s++)
        {
            int i = _slotRow[s];
            if (_done[i])
            {
                _picked[s] = _padId;
                continue;
            }
            var options = _rows[i].Options;
            var row = scores.narrow(0, s, 1);
            if (LogitsProcessors.AnyEnabled(options)) LogitsProcessors.ApplyInPlace(row, idsSoFar.narrow(0, s, 1), options);
            _picked[s] = options.DoSample
                ? row.softmax(-1).cpu().multinomial(1, generator: _generators[i]).item<long>()
                : row.argmax(-1).item<long>();
        }
        return FromPicked();
    }

    Tensor FromPicked() => torch.tensor(_picked, [_picked.Length], device: _model.Device).narrow(0, 0, _count);

    void ReadIds(Tensor next)
    {
        using var host = next.device_type == DeviceType.CPU ? null : next.cpu();
        var ids = host ?? next; // argmax and multinomial write contiguous [B] ids
        MemoryMarshal.Cast<byte, long>((ids.is_contiguous() ? ids : ids.contiguous()).bytes)[.._count].CopyTo(_picked);
    }

    /// <summary>Drops finished rows from the batch, or (shared sampling) marks them to be fed pad.</summary>
    void OnRowsFinished()
    {
        if (!_dropFinished)
        {
            _finishedMask?.Dispose();
            var finished = new bool[_count];
            for (int s = 0; s < _count; s++) finished[s] = _done[_slotRow[s]];
            _finishedMask = torch.tensor(finished, device: _model.Device).DetachFromDisposeScope();
            return;
        }
        int kept = 0;
        var keep = new long[_count];
        for (int s = 0; s < _count; s++)
        {
            if (_done[_slotRow[s]]) continue;
            keep[kept] = s;
            _slotRow[kept] = _slotRow[s];
            kept++;
        }
        if (kept == _count) return;
        _count = kept;
        if (kept == 0) return;
        using var scope = torch.NewDisposeScope();
        var index = torch.tensor(keep.AsSpan(0, kept).ToArray(), device: _model.Device);
        _ids = Keep(_ids, index);
        _positions = Keep(_positions, index);
        if (_keyMask is not null) _keyMask = Keep(_keyMask, index);
        _cache.KeepRows(index);
    }

    static Tensor Keep(Tensor buffer, Tensor index)
    {
        var kept = buffer.index_select(0, index).DetachFromDisposeScope();
        buffer.Dispose();
        return kept;
    }

    public void Dispose()
    {
        _accelerator?.Dispose();
        _ids.Dispose();
        _keyMask?.Dispose();
        _positions.Dispose();
        _finishedMask?.Dispose();
        _cache.Dispose();
        foreach (var g in _generators) g?.Dispose();
    }
}
