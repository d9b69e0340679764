using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Presets;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Stages.Tests.TestSupport;

namespace RaftPipeline.Stages.Tests.Generate;

/// <summary>
/// The tiny preset written once per test class, with two adapters: one whose B is random (so it changes the answers)
/// and one as peft initializes it (B = 0, so the tuned model is the base model). The NF4 folder is built lazily, as the
/// quantize stage's artifact looks: Nf4ModelStore's files plus the tokenizer and generation_config.json.
/// </summary>
public sealed class TinyModelFolders : IDisposable
{
    readonly TempFolder _temp = new();

    public TinyModelFolders()
    {
        Model = Directory.CreateDirectory(_temp.Combine("model")).FullName;
        TinyPreset.Write(Model, seed: 7);
        RandomAdapter = WriteAdapter("adapter-random", LoraInit.Random);
        ZeroAdapter = WriteAdapter("adapter-zero", LoraInit.Kaiming);
        _quantized = new Lazy<string>(WriteQuantized);
    }

    public string Model { get; }
    public string RandomAdapter { get; }
    public string ZeroAdapter { get; }

    public string QuantizedModel => _quantized.Value;

    readonly Lazy<string> _quantized;

    string WriteQuantized()
    {
        string dir = _temp.Combine("model-nf4");
        using (var model = Nf4ModelStore.QuantizeFromCheckpoint(Model))
            Nf4ModelStore.Save(model, dir);
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            File.Copy(Path.Combine(Model, file), Path.Combine(dir, file));
        return dir;
    }

    string WriteAdapter(string name, LoraInit init)
    {
        string dir = _temp.Combine(name);
        using var model = PretrainedLoader.Load(Model);
        var lora = new LoraConfig
        {
            R = 4, Alpha = 8, Targets = LoraTargets.FromNames("q_proj", "v_proj", "down_proj"), Init = init, Seed = 11,
        };
        LoraInjector.Apply(model, lora);
        AdapterStore.Save(model, AdapterConfig.From(lora, null), dir);
        return dir;
    }

    public void Dispose() => _temp.Dispose();
}
