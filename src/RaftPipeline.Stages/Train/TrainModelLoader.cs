using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Train;

/// <summary>
/// Interim stand-in for <c>RaftPipeline.Stages.Models.ModelSlotLoader</c> (owned by the models helper): a model slot
/// folder → a frozen <see cref="CausalLM"/> on the device, NF4 when config.json carries a bitsandbytes 4-bit
/// quantization_config, then the adapter folder attached with its LoRA factors trainable. Replace the call sites
/// with ModelSlotLoader once it is merged.
/// </summary>
internal static class TrainModelLoader
{
    public sealed record Loaded(CausalLM Model, AdapterConfig Adapter, bool Quantized) : IDisposable
    {
        public void Dispose() => Model.Dispose();
    }

    public static Loaded Load(string modelDirectory, string adapterDirectory, DeviceKind deviceKind)
    {
        var device = deviceKind == DeviceKind.Cuda ? torch.CUDA : torch.CPU;
        TorchRuntime.EnsureInitialized(device.type);
        bool quantized = IsNf4Folder(modelDirectory);
        CausalLM model;
        if (quantized)
        {
            // bf16 compute where the notebook runs (CUDA); on CPU bf16 matmuls are slow and gain nothing.
            var compute = deviceKind == DeviceKind.Cuda ? ScalarType.BFloat16 : ScalarType.Float32;
            model = Nf4ModelStore.Load(modelDirectory, compute);
            if (deviceKind == DeviceKind.Cuda) model.to(device);
            KbitTraining.Prepare(model); // freezes the base; norms and embeddings to fp32, as peft does
        }
        else
        {
            // fp32 on CPU (exact, reproducible); the checkpoint's 16 bits on CUDA, with fp32 LoRA factors on top.
            model = PretrainedLoader.Load(modelDirectory, device, deviceKind == DeviceKind.Cuda ? ScalarType.BFloat16 : ScalarType.Float32);
            foreach (var (_, p) in model.named_parameters()) p.requires_grad = false;
        }
        try
        {
            var adapter = AdapterStore.Load(model, adapterDirectory);
            foreach (var (_, layer) in Modeling.Lora.LoraInjector.Adapters(model))
            {
                layer.LoraA.requires_grad = true;
                layer.LoraB.requires_grad = true;
            }
            return new Loaded(model, adapter, quantized);
        }
        catch
        {
            model.Dispose(); // the adapter's error propagates unchanged
            throw;
        }
    }

    /// <summary>True when config.json says the weights are bitsandbytes NF4 (as Nf4ModelStore.Save writes it).</summary>
    public static bool IsNf4Folder(string modelDirectory)
    {
        var path = Path.Combine(modelDirectory, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: missing: a model slot needs a Hugging Face folder with config.json", path);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e); }
        if (root?["quantization_config"] is not JsonObject q) return false;
        string? method = q["quant_method"]?.GetValue<string>();
        bool fourBit = q["load_in_4bit"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
        string? type = q["bnb_4bit_quant_type"]?.GetValue<string>();
        if (method == "bitsandbytes" && fourBit && type == "nf4") return true;
        throw new InvalidDataException(
            $"{path}: quantization_config is {q.ToJsonString()}; only bitsandbytes 4-bit nf4 (what the quantize stage writes) can be trained");
    }
}
