using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RaftPipeline.Core.Spec.Stages;

/// <summary>Parameters of a <c>quantize</c> stage, mirroring bitsandbytes' BitsAndBytesConfig for 4-bit loading.</summary>
[Description("Quantizes the base model's linear layers to 4 bits (bitsandbytes' algorithm); embeddings, norms and lm_head stay unquantized.")]
public sealed record QuantizeParameters : StageParameters
{
    [Description("4-bit code book: nf4 (normal float) or fp4.")]
    public QuantType QuantType { get; init; } = QuantType.Nf4;

    [Description("Quantize the per-block absmax statistics again (8-bit, blocks of 256), saving about 0.37 bit per parameter.")]
    public bool DoubleQuant { get; init; } = true;

    [Description("Type the 4-bit weights are dequantized to for matrix products.")]
    public TensorDtype ComputeDtype { get; init; } = TensorDtype.Bf16;

    [Description("Number of weights sharing one absmax.")]
    [AllowedValues(64, 128, 256, 512, 1024, 2048, 4096)]
    public int BlockSize { get; init; } = 64;
}

/// <summary>The 4-bit data types of bitsandbytes.</summary>
public enum QuantType { Nf4, Fp4 }
