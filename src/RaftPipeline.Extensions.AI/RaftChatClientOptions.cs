namespace RaftPipeline.Extensions.AI;

/// <summary>Where the model is and how to run it.</summary>
public sealed class RaftChatClientOptions
{
    /// <summary>A Hugging Face model folder (config.json, safetensors, tokenizer files; 16-bit or NF4), e.g. a merge stage's artifact.</summary>
    public string ModelDirectory { get; set; } = "";
    /// <summary>A peft LoRA adapter folder to attach (adapter_config.json + adapter_model.safetensors); null for the bare model.</summary>
    public string? AdapterDirectory { get; set; }
    /// <summary>"cpu", "cuda" or "auto" (CUDA when libtorch sees a GPU).</summary>
    public string Device { get; set; } = "auto";
    /// <summary>The name the client reports as its model (ChatResponse.ModelId); default: the model folder's name.</summary>
    public string? ModelId { get; set; }
    /// <summary>The most concurrent requests one decode step runs together.</summary>
    public int MaxBatchSize { get; set; } = 8;
}
