using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Lora;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Modeling.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Loading;

/// <summary>
/// "A model folder → a <see cref="CausalLM"/> on a device", for everything that runs a model: a plain Hugging Face
/// folder (a user's snapshot, a merge artifact) or our NF4 folder (config.json carries a bitsandbytes
/// quantization_config). <see cref="Load"/> tells them apart and builds the model directly on the target device, so
/// <see cref="CausalLM.Device"/> is where the weights are; <see cref="AttachAdapter"/> wraps the targeted projections
/// with a peft adapter folder. The stages reach it through their ModelSlotLoader, the chat engine directly.
/// </summary>
public static class ModelFolderLoader
{
    /// <summary>True when <paramref name="modelDir"/>'s config.json declares a 4-bit bitsandbytes quantization.</summary>
    public static bool IsQuantized(string modelDir)
    {
        var configPath = Path.Combine(modelDir, "config.json");
        if (!File.Exists(configPath))
            throw new FileNotFoundException($"{modelDir}: no config.json; expected a Hugging Face model folder", configPath);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(configPath)); }
        catch (JsonException e) { throw new InvalidDataException($"{configPath}: not valid JSON: {e.Message}", e); }
        if (root is not JsonObject config) throw new InvalidDataException($"{configPath}: expected a JSON object");
        if (config["quantization_config"] is not JsonObject q) return false;
        var method = q["quant_method"]?.GetValue<string>();
        bool fourBit = q["load_in_4bit"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
        if (method != "bitsandbytes" || !fourBit)
            throw new InvalidDataException(
                $"{configPath}: \"quantization_config\" is {q.ToJsonString()}, expected bitsandbytes 4-bit (quant_method \"bitsandbytes\", load_in_4bit true)");
        return true;
    }

    /// <summary>
    /// The compute dtype every stage and verb uses for a device: fp32 on the CPU (exact and reproducible; libtorch's
    /// bf16 matmuls there are slow and gain nothing), bf16 on CUDA (as the notebook computes).
    /// </summary>
    public static ScalarType DefaultComputeDtype(DeviceType device) => device == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>
    /// Loads the model in <paramref name="modelDir"/> onto <paramref name="device"/>, frozen, in eval mode. A plain
    /// folder's weights are converted to <paramref name="computeDtype"/>; a quantized folder keeps its NF4 codes and
    /// dequantizes to <paramref name="computeDtype"/> on every forward. The caller owns (disposes) the model.
    /// </summary>
    public static CausalLM Load(string modelDir, Device device, ScalarType computeDtype)
    {
        TorchRuntime.EnsureInitialized(device.type);
        var model = IsQuantized(modelDir)
            ? LoadNf4(modelDir, device, computeDtype)
            : PretrainedLoader.Load(modelDir, device, computeDtype);
        foreach (var (_, p) in model.named_parameters()) p.requires_grad = false;
        model.eval();
        return model;
    }

    /// <summary>
    /// A second model over <paramref name="source"/>'s weights: every parameter (and every NF4 weight's packed codes and
    /// statistics) is a view of the same storage, so an adapter attached to it costs only the adapter's own weights
    /// (`raft serve` answers each adapter from one of these, beside the base). Frozen, in eval mode; nothing is read
    /// from disk and nothing the size of the model is allocated, on CUDA either (placeholders, then
    /// <c>set_</c>). The caller owns (disposes) it; the storage lives while either model does. Neither model may then
    /// change a base weight in place (nothing at inference does; merging works on copies).
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="source"/> has an adapter or other non-base module attached.</exception>
    public static CausalLM ShareWeights(CausalLM source)
    {
        CausalLM model;
        using (Layers.ParameterFactory.Placeholders()) model = new CausalLM(source.Config, source.Dtype, source.Device);
        try
        {
            foreach (var path in source.LinearPaths().ToList())
            {
                switch (source.GetLinear(path))
                {
                    case Nf4Linear q: model.ReplaceLinear(path, q.ShareStorage()).Dispose(); break;
                    case Layers.Linear: break;
                    case var other: throw new InvalidOperationException($"{path} is a {other.GetType().Name}: only a base model's weights can be shared");
                }
            }
            var weights = source.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
            var mine = model.named_parameters().ToList();
            if (mine.Count != weights.Count)
                throw new InvalidOperationException($"the shared model has {mine.Count} parameters, its source {weights.Count}");
            using var noGrad = torch.no_grad();
            foreach (var (name, p) in mine)
            {
                if (!weights.TryGetValue(name, out var w) || !w.shape.SequenceEqual(p.shape) || w.dtype != p.dtype)
                    throw new InvalidOperationException($"parameter '{name}' has no counterpart of the same shape and dtype in the source model");
                p.requires_grad = false;
                p.set_(w); // in place; returns p itself (TorchSharp 0.107), so nothing to dispose
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }

    /// <summary>
    /// Wraps the modules the adapter in <paramref name="adapterDir"/> targets and fills its A and B (peft layout,
    /// checked against the model: the first mismatching key is named). <paramref name="trainable"/>: A and B require
    /// grad (fp32, as peft keeps them); otherwise they are frozen and the model is put in eval mode, so dropout is
    /// off. Returns the adapter's configuration (r, alpha, targets, base_model_name_or_path).
    /// </summary>
    public static AdapterConfig AttachAdapter(CausalLM model, string adapterDir, bool trainable)
    {
        var config = AdapterStore.Load(model, adapterDir);
        foreach (var (_, tensor) in LoraInjector.AdapterTensors(model)) tensor.requires_grad = trainable;
        if (trainable) model.train(); else model.eval();
        return config;
    }

    /// <summary>
    /// <see cref="Nf4ModelStore.Load"/>, but placed on <paramref name="device"/>: each packed weight is moved there as it
    /// is read, so CUDA never waits for a whole CPU copy. The model is built on the CPU, where the dense projections it
    /// starts with are uninitialised storage never touched (so never resident) and replaced before anything reads them;
    /// built on CUDA they would be real allocations, the whole bf16 model at once, which the caching allocator would
    /// then keep reserved: the very memory NF4 is meant to save. The rest (embeddings, norms, head) follows at the end.
    /// </summary>
    static CausalLM LoadNf4(string directory, Device device, ScalarType computeDtype)
    {
        var config = ModelConfigReader.ReadFolder(directory);
        using var checkpoint = SafetensorsCheckpoint.Open(directory);
        var model = new CausalLM(config, computeDtype, torch.CPU);
        try
        {
            foreach (var path in model.LinearPaths().ToList())
            {
                using var scope = NewDisposeScope();
                var onHost = Nf4StateDict.FromEntries(path + ".weight", k => checkpoint.Contains(k) ? checkpoint.Read(k) : null, checkpoint.Source);
                var q = device.type == DeviceType.CPU ? onHost : onHost.To(device);
                model.ReplaceLinear(path, new Nf4Linear(q.DetachFromScopes(), null, computeDtype)).Dispose();
            }
            foreach (var (name, p) in model.named_parameters().ToList())
            {
                if (!checkpoint.Contains(name)) throw new InvalidDataException($"{checkpoint.Source}: key '{name}' is missing");
                checkpoint.ReadInto(name, p);
            }
            if (device.type != DeviceType.CPU) model.PlaceOn(device);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }
}
