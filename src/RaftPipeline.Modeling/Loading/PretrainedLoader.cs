using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Loading;

/// <summary>
/// Loads a Hugging Face model folder: config.json → an uninitialised <see cref="CausalLM"/> built directly on the
/// target device and dtype → a walk over its named parameters, each read from the checkpoint straight into the
/// parameter (converted on the way). No renaming table: the module names are the checkpoint keys.
/// </summary>
public static class PretrainedLoader
{
    /// <summary>Keys a checkpoint may carry that are derived state, not weights.</summary>
    static bool IsIgnorable(string key, ModelConfig config) =>
        key.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)
        || (config.TieWordEmbeddings && key == "lm_head.weight");

    public static CausalLM Load(string directory, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        device ??= torch.CPU;
        TorchRuntime.EnsureInitialized(device.type);
        var config = ModelConfigReader.ReadFolder(directory);
        using var checkpoint = SafetensorsCheckpoint.Open(directory);
        var model = new CausalLM(config, dtype, device);
        try
        {
            LoadWeights(model, checkpoint);
        }
        catch
        {
            model.Dispose(); // frees the half-loaded model; the original error propagates unchanged
            throw;
        }
        return model;
    }

    /// <summary>Fills every parameter of <paramref name="model"/> from <paramref name="checkpoint"/>; strict both ways.</summary>
    public static void LoadWeights(CausalLM model, SafetensorsCheckpoint checkpoint)
    {
        var wanted = model.named_parameters().ToList();
        var missing = wanted.Select(p => p.name).Where(n => !checkpoint.Contains(n)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException(
                $"{checkpoint.Source}: the checkpoint lacks {missing.Count} weight(s) this {model.Config.ModelType} model needs: " +
                string.Join(", ", missing.Take(8)) + (missing.Count > 8 ? ", …" : ""));
        var known = wanted.Select(p => p.name).ToHashSet(StringComparer.Ordinal);
        var unexpected = checkpoint.TensorNames.Where(n => !known.Contains(n) && !IsIgnorable(n, model.Config)).OrderBy(n => n, StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0)
            throw new InvalidDataException(
                $"{checkpoint.Source}: the checkpoint holds {unexpected.Count} weight(s) the config does not describe: " +
                string.Join(", ", unexpected.Take(8)) + (unexpected.Count > 8 ? ", …" : ""));
        foreach (var (name, parameter) in wanted)
            checkpoint.ReadInto(name, parameter);
    }
}
