namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>A Python dict: insertion-ordered, keys compared with Python equality (1 == 1.0 == True).</summary>
public sealed class PyDict
{
    readonly List<KeyValuePair<object?, object?>> _entries = [];
    readonly Dictionary<Key, int> _index = [];

    readonly struct Key(object? value) : IEquatable<Key>
    {
        public object? Value { get; } = value;
        public bool Equals(Key other) => PyOps.Equal(Value, other.Value);
        public override bool Equals(object? obj) => obj is Key k && Equals(k);
        public override int GetHashCode() => PyOps.Hash(Value);
    }

    public int Count => _entries.Count;
    public IReadOnlyList<KeyValuePair<object?, object?>> Entries => _entries;
    public IEnumerable<object?> Keys => _entries.Select(e => e.Key);

    public object? this[object? key]
    {
        set
        {
            PyOps.Hash(key); // unhashable keys (lists, dicts) fail as in Python
            var k = new Key(key);
            if (_index.TryGetValue(k, out var i)) _entries[i] = new(_entries[i].Key, value);
            else
            {
                _index[k] = _entries.Count;
                _entries.Add(new(key, value));
            }
        }
    }

    public bool TryGetValue(object? key, out object? value)
    {
        if (IsHashable(key) && _index.TryGetValue(new Key(key), out var i))
        {
            value = _entries[i].Value;
            return true;
        }
        value = null;
        return false;
    }

    public bool ContainsKey(object? key) => TryGetValue(key, out _);

    static bool IsHashable(object? key) => key is not (List<object?> or PyDict or Namespace);
}
