using RaftPipeline.Core.Spec;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Stages.Models;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Train;

/// <summary>
/// The train stage's model: the base from its model slot, frozen, set up for training by <see cref="ModelSlotLoader"/>
/// (an NF4 base goes through peft's k-bit preparation), with the adapter attached and its LoRA factors trainable.
/// Compute in fp32 on the CPU (exact, reproducible; bf16 matmuls there are slow) and in bf16 on CUDA, as the notebook.
/// </summary>
internal static class TrainModelLoader
{
    public sealed record Loaded(CausalLM Model, AdapterConfig Adapter, bool Quantized) : IDisposable
    {
        public void Dispose() => Model.Dispose();
    }

    public static Loaded Load(string modelDirectory, string adapterDirectory, DeviceKind device)
    {
        bool quantized = ModelSlotLoader.IsQuantized(modelDirectory);
        var model = ModelSlotLoader.Load(modelDirectory, device, device == DeviceKind.Cuda ? ScalarType.BFloat16 : ScalarType.Float32, ModelUse.Training);
        try
        {
            return new Loaded(model, ModelSlotLoader.AttachAdapter(model, adapterDirectory, trainable: true), quantized);
        }
        catch
        {
            model.Dispose(); // the adapter's error propagates unchanged
            throw;
        }
    }
}
