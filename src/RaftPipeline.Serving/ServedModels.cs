using RaftPipeline.Modeling.Chat;
using static TorchSharp.torch;

namespace RaftPipeline.Serving;

/// <summary>
/// The engines a server answers with, by the name a request gives in <c>model</c>: the bare model, and one engine per
/// adapter. The adapter engines' models are views of the base engine's weights (<see cref="ChatEngine.LoadOver"/>),
/// so the base is in memory once and each adapter adds its own A and B; each engine has its own decode loop, so
/// requests for different names never share a batch.
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
            var baseModel = models[options.BaseModelName] = Serve(options.BaseModelName, null,
                ChatEngine.Load(options.ModelDirectory, null, device, options.MaxBatchSize), options);
            foreach (var (name, dir) in options.Adapters)
                models[name] = Serve(name, options.BaseModelName, ChatEngine.LoadOver(baseModel.Engine, dir, options.MaxBatchSize), options);
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

    static ServedModel Serve(string name, string? parent, ChatEngine engine, ServeOptions options) =>
        new(name, engine, Math.Min(options.MaxModelLength ?? int.MaxValue, engine.ContextLength), parent);

    /// <summary>Drains every engine's queue, then frees the models.</summary>
    public void Dispose()
    {
        foreach (var m in _models.Values) m.Engine.Dispose();
    }
}

/// <summary>One served name: its engine, the longest prompt + answer it takes, and the base it adapts (null for the base).</summary>
public sealed record ServedModel(string Name, ChatEngine Engine, int ContextLength, string? Parent);
