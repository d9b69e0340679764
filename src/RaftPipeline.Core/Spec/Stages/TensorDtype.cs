namespace RaftPipeline.Core.Spec.Stages;

/// <summary>A floating-point storage or compute type, named as PyTorch and Hugging Face configs name them.</summary>
public enum TensorDtype { Bf16, Fp16, Fp32 }
