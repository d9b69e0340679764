using RaftPipeline.Modeling.Chat;
using static TorchSharp.torch;

namespace RaftPipeline.Serving;

/// <summary>
/// The engines a server answers with, by the name a request gives in <c>model</c>: the bare model, and one engine per
/// adapter. Each engine holds its own copy of the base weights (an adapter is merged into the forward of its own
/// model), so memory grows with the number of adapters; each has its own decode loop, so requests for different
/// names never share a batch.
/// </summary>
public sealed class ServedModels : IDisposable
{
    readonly Dictionary<string, ServedModel> _models;

    ServedModels(Dictionary<string, ServedModel> models) => _models = models;

    public IReadOnlyCollection<ServedModel> All => _models.Values;

    public ServedModel? Find(string name) => _models.GetValueOrDefault(name);

    /// <summary>Loads the base and every adapter onto <paramref name="device"/>.</summary>
    /// <exception cref="ArgumentException">Two served names are the same.</exception>
    public static ServedModels Load(ServeOptions options, Device device)
    {
        var names = new[] { options.BaseModelName }.Concat(options.Adapters.Keys).ToList();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
            throw new ArgumentException($"served model names must differ: {string.Join(", ", names)}");
        var models = new Dictionary<string, ServedModel>(StringComparer.Ordinal);
        try
        {
            models[options.BaseModelName] = Load(options.BaseModelName, null, options, device);
            foreach (var (name, dir) in options.Adapters) models[name] = Load(name, dir, options, device);
        }
        catch
        {
            foreach (var m in models.Values) m.Engine.Dispose();
            throw;
        }
        return new ServedModels(models);
    }

    /// <summary>Serves engines already loaded (tests, hosts that share one engine); the caller keeps ownership unless disposed here.</summary>
    public static ServedModels From(IEnumerable<ServedModel> models) => new(models.ToDictionary(m => m.Name, StringComparer.Ordinal));

    static ServedModel Load(string name, string? adapter, ServeOptions options, Device device)
    {
        var engine = ChatEngine.Load(options.ModelDirectory, adapter, device, options.MaxBatchSize);
        int context = Math.Min(options.MaxModelLength ?? int.MaxValue, engine.ContextLength);
        return new ServedModel(name, engine, context, adapter is null ? null : options.BaseModelName);
    }

    /// <summary>Drains every engine's queue, then frees the models.</summary>
    public void Dispose()
    {
        foreach (var m in _models.Values) m.Engine.Dispose();
    }
}

/// <summary>One served name: its engine, the longest prompt + answer it takes, and the base it adapts (null for the base).</summary>
public sealed record ServedModel(string Name, ChatEngine Engine, int ContextLength, string? Parent);
