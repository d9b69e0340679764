namespace RaftPipeline.Stages.Models;

/// <summary>What a model loaded from a model slot is for; training prepares the base as peft does before LoRA.</summary>
public enum ModelUse
{
    /// <summary>eval() mode, every parameter frozen, weights in the compute dtype.</summary>
    Inference,

    /// <summary>
    /// Base frozen for LoRA training. A quantized base goes through peft's prepare_model_for_kbit_training
    /// (<see cref="RaftPipeline.Modeling.Quantization.KbitTraining"/>): its non-4-bit parameters become fp32 with an fp32
    /// compute dtype, and stay in a 16-bit compute dtype (see <see cref="ModelSlotLoader.KbitHoldDtype"/>). A plain
    /// base keeps the compute dtype (peft does not upcast a 16-bit base). The trainer owns the other two switches
    /// prepare_model_for_kbit_training flips: input gradients on, KV cache off.
    /// </summary>
    Training,
}
