using System.Text.Json.Nodes;
using RaftPipeline.Core.Spec;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Generate;

/// <summary>
/// Stand-in for <c>RaftPipeline.Stages.Models.ModelSlotLoader</c> (owned by the models work) until it is merged: a
/// model slot folder → a <see cref="CausalLM"/> in eval mode, NF4-quantized (config.json carries
/// <c>quantization_config</c>, as Nf4ModelStore writes it) or plain, and an adapter folder attached on top.
/// </summary>
internal static class InterimModelSlotLoader
{
    public static CausalLM Load(string directory, DeviceKind deviceKind)
    {
        var device = deviceKind switch
        {
            DeviceKind.Cpu => torch.CPU,
            DeviceKind.Cuda => torch.CUDA,
            _ => throw new ArgumentOutOfRangeException(nameof(deviceKind), deviceKind, "the run resolves 'auto' before stages run"),
        };
        TorchRuntime.EnsureInitialized(device.type);
        string configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{directory}: not a model folder (no config.json)", configPath);

        CausalLM model;
        if (IsQuantized(configPath))
        {
            // Nf4ModelStore builds on the CPU and CausalLM.Device is fixed at construction, so moving the model would
            // leave generation allocating on the wrong device: CUDA waits for the shared loader.
            if (deviceKind != DeviceKind.Cpu)
                throw new NotSupportedException($"{directory}: loading an NF4 model on {deviceKind} needs the shared model slot loader");
            // fp32 compute on the CPU: libtorch's bf16 matmuls there are slow and less exact, and the answers are
            // what is compared, not the arithmetic.
            model = Nf4ModelStore.Load(directory, ScalarType.Float32);
        }
        else
        {
            model = PretrainedLoader.Load(directory, device, deviceKind == DeviceKind.Cpu ? ScalarType.Float32 : ScalarType.BFloat16);
        }
        model.eval();
        return model;
    }

    /// <summary>Wraps the targeted projections and loads the adapter's A and B; eval mode so dropout is off.</summary>
    public static void AttachAdapter(CausalLM model, string adapterDirectory)
    {
        AdapterStore.Load(model, adapterDirectory);
        model.eval();
    }

    static bool IsQuantized(string configPath)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(configPath)); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{configPath}: not valid JSON: {e.Message}", e); }
        return root is JsonObject o && o["quantization_config"] is JsonObject q
            && (q["load_in_4bit"]?.GetValue<bool>() ?? false);
    }
}
