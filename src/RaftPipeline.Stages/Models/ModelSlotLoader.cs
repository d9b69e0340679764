using RaftPipeline.Core.Spec;
using RaftPipeline.Modeling.Adapters;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Quantization;
using static TorchSharp.torch;

namespace RaftPipeline.Stages.Models;

/// <summary>
/// "A model slot → a <see cref="CausalLM"/> on a device", for every stage that runs a model (lora, train, generate,
/// eval). A model slot holds either a plain Hugging Face folder (the model stage, a merge artifact, a user's
/// snapshot) or our NF4 folder (the quantize artifact: config.json carries a bitsandbytes quantization_config);
/// <see cref="Load"/> tells them apart and builds the model directly on the target device, so
/// <see cref="CausalLM.Device"/> is where the weights are. <see cref="AttachAdapter"/> then wraps the targeted
/// projections with a peft adapter folder (a lora or train artifact), frozen for inference or trainable.
/// </summary>
public static class ModelSlotLoader
{
    /// <summary>True when <paramref name="modelDir"/>'s config.json declares a 4-bit bitsandbytes quantization.</summary>
    public static bool IsQuantized(string modelDir) => ModelFolderLoader.IsQuantized(modelDir);

    /// <summary>
    /// The compute dtype every stage and verb uses for a device: fp32 on the CPU (exact and reproducible; libtorch's
    /// bf16 matmuls there are slow and gain nothing), bf16 on CUDA (as the notebook computes).
    /// </summary>
    public static ScalarType DefaultComputeDtype(DeviceKind device) => ModelFolderLoader.DefaultComputeDtype(device.ToDeviceType());

    /// <summary>
    /// The dtype of a quantized base's embeddings and norms for training: fp32 as peft does when the compute dtype is
    /// fp32 (the CPU), the compute dtype itself when it is 16-bit (CUDA): we train without autocast, so fp32 there
    /// would make every activation fp32 (see <see cref="KbitTraining.Prepare"/>).
    /// </summary>
    public static ScalarType KbitHoldDtype(ScalarType computeDtype) =>
        computeDtype is ScalarType.BFloat16 or ScalarType.Float16 ? computeDtype : ScalarType.Float32;

    /// <summary>
    /// Loads the model in <paramref name="modelDir"/> onto <paramref name="device"/>. A plain folder's weights are
    /// converted to <paramref name="computeDtype"/>; a quantized folder keeps its NF4 codes and dequantizes to
    /// <paramref name="computeDtype"/> on every forward (its embeddings and norms are held in that dtype too).
    /// With <see cref="ModelUse.Training"/> the base is frozen and prepared as <see cref="ModelUse"/> says; attach an
    /// adapter with <c>trainable: true</c> afterwards. The caller owns (disposes) the model.
    /// </summary>
    public static CausalLM Load(string modelDir, DeviceKind device, ScalarType computeDtype, ModelUse use = ModelUse.Inference)
    {
        var model = ModelFolderLoader.Load(modelDir, device.ToTorchDevice(), computeDtype);
        try
        {
            if (use == ModelUse.Training)
            {
                if (ModelFolderLoader.IsQuantized(modelDir)) KbitTraining.Prepare(model, KbitHoldDtype(computeDtype));
                foreach (var (_, p) in model.named_parameters()) p.requires_grad = false;
                model.train();
            }
        }
        catch
        {
            model.Dispose(); // the original error propagates unchanged
            throw;
        }
        return model;
    }

    /// <summary>
    /// Wraps the modules the adapter in <paramref name="adapterDir"/> targets and fills its A and B (peft layout,
    /// checked against the model: the first mismatching key is named). <paramref name="trainable"/>: A and B require
    /// grad (fp32, as peft keeps them); otherwise they are frozen and the model is put in eval mode, so dropout is
    /// off. Returns the adapter's configuration (r, alpha, targets, base_model_name_or_path).
    /// </summary>
    public static AdapterConfig AttachAdapter(CausalLM model, string adapterDir, bool trainable) =>
        ModelFolderLoader.AttachAdapter(model, adapterDir, trainable);
}
