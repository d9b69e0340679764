using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Decoder;

/// <summary>
/// Keys and values of past positions, per layer, in preallocated buffers [B, kvHeads, capacity, headDim] that
/// grow by doubling (a generator that knows its final width sizes it once: a static cache). Each step copies the new positions in place and hands attention a view of everything so
/// far, so a generated token allocates nothing that outlives its dispose scope. Inference only (no autograd
/// through the in-place copies). The buffers belong to the cache, not to any dispose scope: dispose the cache.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor?[] _keys;
    readonly Tensor?[] _values;
    long _capacity;

    public KvCache(int layers, long initialCapacity = 256)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
        _capacity = Math.Max(1, initialCapacity);
    }

    /// <summary>Positions already stored (the same for every layer once a forward pass has finished).</summary>
    public long Length { get; private set; }

    public long Capacity => _capacity;

    /// <summary>Stores <paramref name="key"/>/<paramref name="value"/> [B, kvHeads, T, d] after the past ones and
    /// returns views of all positions [B, kvHeads, Length + T, d].</summary>
    public (Tensor Keys, Tensor Values) Update(int layer, Tensor key, Tensor value)
    {
        long t = key.shape[2];
        long needed = Length + t;
        if (_keys[layer] is null)
        {
            while (_capacity < needed) _capacity *= 2;
            _keys[layer] = Allocate(key);
            _values[layer] = Allocate(value);
        }
        else if (_keys[layer]!.shape[2] < needed)
        {
            while (_capacity < needed) _capacity *= 2;
            _keys[layer] = Grow(_keys[layer]!);
            _values[layer] = Grow(_values[layer]!);
        }
        using (torch.no_grad())
        {
            using var kSlot = _keys[layer]!.narrow(2, Length, t);
            using var vSlot = _values[layer]!.narrow(2, Length, t);
            kSlot.copy_(key);
            vSlot.copy_(value);
        }
        return (_keys[layer]!.narrow(2, 0, needed), _values[layer]!.narrow(2, 0, needed));
    }

    /// <summary>Layer <paramref name="layer"/>'s key and value buffers [B, kvHeads, capacity, d] (positions past
    /// <see cref="Length"/> unwritten), or null before its first update; owned by the cache.</summary>
    public (Tensor Keys, Tensor Values)? Layer(int layer) =>
        _keys[layer] is { } k && _values[layer] is { } v ? (k, v) : null;

    /// <summary>Called once per forward pass, after every layer has stored its <paramref name="positions"/> new positions.</summary>
    public void Advance(long positions) => Length += positions;

    /// <summary>Forgets every stored position (the buffers stay for the re-encoding that follows).</summary>
    public void Rewind() => Length = 0;

    /// <summary>
    /// Keeps only the batch rows <paramref name="rows"/> (int64 [B'], on the cache's device), in that order: a decode
    /// loop drops the rows that finished, so later steps compute nothing for them. One copy of the kept rows per layer,
    /// paid once per drop rather than every step.
    /// </summary>
    public void KeepRows(Tensor rows)
    {
        using (torch.no_grad())
        {
            for (int layer = 0; layer < _keys.Length; layer++)
            {
                if (_keys[layer] is null) continue;
                var keys = _keys[layer]!.index_select(0, rows).DetachFromDisposeScope();
                var values = _values[layer]!.index_select(0, rows).DetachFromDisposeScope();
                _keys[layer]!.Dispose();
                _values[layer]!.Dispose();
                _keys[layer] = keys;
                _values[layer] = values;
            }
        }
    }

    Tensor Allocate(Tensor like) =>
        torch.zeros([like.shape[0], like.shape[1], _capacity, like.shape[3]], like.dtype, like.device).DetachFromDisposeScope();

    Tensor Grow(Tensor old)
    {
        var bigger = Allocate(old);
        using (torch.no_grad())
        using (var head = bigger.narrow(2, 0, Length))
        using (var past = old.narrow(2, 0, Length))
            head.copy_(past);
        old.Dispose();
        return bigger;
    }

    public void Dispose()
    {
        foreach (var t in _keys) t?.Dispose();
        foreach (var t in _values) t?.Dispose();
    }
}
