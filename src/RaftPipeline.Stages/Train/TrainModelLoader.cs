using RaftPipeline.Core.Spec;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Stages.Models;

namespace RaftPipeline.Stages.Train;

/// <summary>
/// The train stage's model: the base from its model slot, frozen, set up for training by <see cref="ModelSlotLoader"/>
/// (an NF4 base goes through peft's k-bit preparation), with the adapter attached and its LoRA factors trainable.
/// Compute dtype: <see cref="ModelSlotLoader.DefaultComputeDtype"/>.
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
        var model = ModelSlotLoader.Load(modelDirectory, device, ModelSlotLoader.DefaultComputeDtype(device), ModelUse.Training);
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
