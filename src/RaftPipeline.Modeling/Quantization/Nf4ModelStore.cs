using System.Text.Json;
using System.Text.Json.Nodes;
using RaftPipeline.Modeling.Config;
using RaftPipeline.Modeling.Decoder;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Quantization;

/// <summary>
/// A whole decoder in NF4: quantizing (from a model in memory, or streamed from a checkpoint layer by layer),
/// saving as a bnb-4bit style folder (config.json with transformers' quantization_config + safetensors holding the
/// packed weights and their statistics under bitsandbytes' key names) and loading it back without quantizing again.
/// Only the decoder's projections are quantized; embeddings, norms and lm_head stay in 16 bits, as bitsandbytes
/// leaves them (transformers skips the output head and keeps nn.Embedding / norms).
/// </summary>
public static class Nf4ModelStore
{
    /// <summary>Replaces every projection of <paramref name="model"/> by its NF4 version; the dense slots are freed.</summary>
    public static void QuantizeInPlace(CausalLM model, ScalarType computeDType = ScalarType.BFloat16, bool doubleQuant = true)
    {
        foreach (var path in model.LinearPaths().ToList())
        {
            using var scope = NewDisposeScope();
            var slot = model.GetLinear(path);
            var weight = slot.DenseWeight(model.Dtype);
            var old = model.ReplaceLinear(path, Nf4Linear.FromDense(weight, null, computeDType, doubleQuant));
            old.Dispose();
        }
    }

    /// <summary>
    /// Builds an NF4 model from a 16-bit Hugging Face folder, reading and quantizing one projection at a time: host
    /// memory holds the NF4 result plus one dense weight (the model is built with uninitialised storage that the
    /// projections never touch before they are swapped out).
    /// </summary>
    public static CausalLM QuantizeFromCheckpoint(string directory, ScalarType computeDType = ScalarType.BFloat16, bool doubleQuant = true)
    {
        var config = ModelConfigReader.ReadFolder(directory);
        using var checkpoint = SafetensorsCheckpoint.Open(directory);
        var model = new CausalLM(config, computeDType, torch.CPU);
        var shapes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        foreach (var path in model.LinearPaths().ToList())
        {
            using var scope = NewDisposeScope();
            var name = path + ".weight";
            // Checked before quantizing: a weight that does not fit config.json is the checkpoint's fault, named as such.
            var stored = checkpoint.Entry(name).Shape;
            if (shapes.TryGetValue(name, out var expected) && !stored.SequenceEqual(expected))
                throw new SafetensorsFormatException(checkpoint.PathOf(name), name,
                    $"stored shape [{string.Join(", ", stored)}] does not match the model's [{string.Join(", ", expected)}] (from config.json)");
            var weight = checkpoint.Read(name);
            model.ReplaceLinear(path, Nf4Linear.FromDense(weight, null, computeDType, doubleQuant)).Dispose();
        }
        foreach (var (name, p) in model.named_parameters().ToList())
            checkpoint.ReadInto(name, p);
        model.eval();
        return model;
    }

    public static void Save(CausalLM model, string directory, ScalarType dtype = ScalarType.BFloat16)
    {
        Directory.CreateDirectory(directory);
        var config = JsonNode.Parse((model.Config with { Dtype = PretrainedSaver.DtypeName(dtype) }).ToJson())!.AsObject();
        var computeType = model.named_modules().Select(m => m.module).OfType<Nf4Linear>().FirstOrDefault()?.ComputeDType ?? ScalarType.BFloat16;
        // transformers' BitsAndBytesConfig.to_dict keys, so the folder says what it is.
        config["quantization_config"] = new JsonObject
        {
            ["quant_method"] = "bitsandbytes",
            ["load_in_4bit"] = true,
            ["load_in_8bit"] = false,
            ["bnb_4bit_quant_type"] = "nf4",
            ["bnb_4bit_use_double_quant"] = model.named_modules().Select(m => m.module).OfType<Nf4Linear>().Any(l => l.Weight.Nested),
            ["bnb_4bit_compute_dtype"] = PretrainedSaver.DtypeName(computeType),
            ["bnb_4bit_quant_storage"] = "uint8",
            ["llm_int8_skip_modules"] = null,
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        var tensors = model.named_parameters().Select(p => TensorToWrite.Of(p.name, p.parameter, dtype))
            .Concat(model.named_buffers().Where(b => IsNf4Key(b.name)).Select(b => TensorToWrite.Of(b.name, b.buffer)))
            .ToList();
        SafetensorsWriter.WriteSharded(directory, tensors, PretrainedSaver.DefaultMaxShardBytes);
    }

    public static CausalLM Load(string directory, ScalarType computeDType = ScalarType.BFloat16)
    {
        var config = ModelConfigReader.ReadFolder(directory);
        using var checkpoint = SafetensorsCheckpoint.Open(directory);
        var model = new CausalLM(config, computeDType, torch.CPU);
        foreach (var path in model.LinearPaths().ToList())
        {
            var q = Nf4StateDict.FromEntries(path + ".weight", k => checkpoint.Contains(k) ? checkpoint.Read(k) : null, checkpoint.Source);
            model.ReplaceLinear(path, new Nf4Linear(q, null, computeDType)).Dispose();
        }
        foreach (var (name, p) in model.named_parameters().ToList())
        {
            if (!checkpoint.Contains(name)) throw new InvalidDataException($"{checkpoint.Source}: key '{name}' is missing");
            checkpoint.ReadInto(name, p);
        }
        model.eval();
        return model;
    }

    static bool IsNf4Key(string bufferName) =>
        bufferName.EndsWith(".weight", StringComparison.Ordinal) || Nf4StateDict.IsStatisticsKey(bufferName);
}
