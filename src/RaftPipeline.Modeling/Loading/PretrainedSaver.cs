using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Safetensors;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Loading;

/// <summary>Writes a model folder transformers loads: config.json and the weights (sharded above the limit).</summary>
public static class PretrainedSaver
{
    public const long DefaultMaxShardBytes = 5L * 1024 * 1024 * 1024;

    public static IReadOnlyList<string> Save(CausalLM model, string directory, ScalarType dtype = ScalarType.BFloat16,
        long maxShardBytes = DefaultMaxShardBytes)
    {
        Directory.CreateDirectory(directory);
        var config = model.Config with { Dtype = DtypeName(dtype) };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJson());
        var tensors = model.named_parameters()
            .Select(p => TensorToWrite.Of(p.name, p.parameter, dtype))
            .ToList();
        return SafetensorsWriter.WriteSharded(directory, tensors, maxShardBytes);
    }

    public static string DtypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        ScalarType.Float32 => "float32",
        _ => throw new ArgumentException($"models are saved in bfloat16, float16 or float32, not {dtype}"),
    };
}
