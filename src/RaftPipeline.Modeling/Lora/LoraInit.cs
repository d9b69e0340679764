namespace RaftPipeline.Modeling.Lora;

/// <summary>How a new adapter starts (peft's init_lora_weights).</summary>
public enum LoraInit
{
    /// <summary>peft's default (true): A kaiming-uniform with a = sqrt(5), B zeros, so the adapter starts as a no-op.</summary>
    Kaiming,
    /// <summary>"gaussian": A ~ N(0, 1/r), B zeros.</summary>
    Gaussian,
    /// <summary>false: A and B both keep nn.Linear's default init (kaiming-uniform a = sqrt(5)); for tests only.</summary>
    Random,
}
