using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Presets;
using RaftPipeline.Stages.Tests.TestSupport;

namespace RaftPipeline.Stages.Tests.Generate;

/// <summary>
/// The tiny preset written once per test class, with two adapters: one whose B is random (so it changes the answers)
/// and one as peft initializes it (B = 0, so the tuned model is the base model).
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
    }

    public string Model { get; }
    public string RandomAdapter { get; }
    public string ZeroAdapter { get; }

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
