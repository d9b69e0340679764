using System.Globalization;
using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Modeling.Loading;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Stages.Models;

namespace RaftPipeline.Stages.Quantize;

/// <summary>
/// The <c>quantize</c> stage (the notebook's BitsAndBytesConfig(load_in_4bit, nf4, double quant, bf16 compute)):
/// streams the 16-bit model folder projection by projection into NF4 and saves it as a bnb-4bit style folder
/// (<see cref="Nf4ModelStore"/>), with the source's tokenizer files and generation_config.json beside it, so later
/// stages load it with <see cref="ModelSlotLoader"/> and never quantize again.
/// </summary>
public sealed class QuantizeStageExecutor : IStageExecutor
{
    public const string ModelSlot = "model";

    public string Kind => "quantize";

    /// <summary>1: bitsandbytes' NF4 (blocks of 64, optional double quantization), 16-bit tensors stored in the compute dtype.</summary>
    public int Version => 1;

    public Task<StageOutcome> RunAsync(StageContext context, CancellationToken cancellationToken)
    {
        var parameters = context.Parameters<QuantizeParameters>();
        var source = context.Input(ModelSlot);
        // Only what the quantizer implements; anything else would silently produce a different model.
        if (parameters.QuantType != QuantType.Nf4)
            throw new NotSupportedException($"stage '{context.Stage.Name}': quant_type {parameters.QuantType.ToString().ToLowerInvariant()} is not implemented; only nf4 is");
        if (parameters.BlockSize != Nf4Quantizer.BlockSize)
            throw new NotSupportedException($"stage '{context.Stage.Name}': block_size {parameters.BlockSize} is not implemented; only {Nf4Quantizer.BlockSize} (bitsandbytes' default) is");
        if (ModelSlotLoader.IsQuantized(source))
            throw new InvalidDataException($"stage '{context.Stage.Name}': {source} is already quantized (its config.json has a quantization_config); give the 16-bit model folder");

        TorchRuntime.EnsureInitialized();
        var computeDtype = parameters.ComputeDtype.ToScalarType();
        long quantizedElements = 0, quantizedBytes = 0, layers = 0;
        using (var model = Nf4ModelStore.QuantizeFromCheckpoint(source, computeDtype, parameters.DoubleQuant))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var (_, module) in model.named_modules())
            {
                if (module is not Nf4Linear q) continue;
                var w = q.Weight;
                quantizedElements += w.ElementCount;
                quantizedBytes += w.StorageBytes;
                layers++;
            }
            Nf4ModelStore.Save(model, context.OutputDirectory, computeDtype);
        }
        var copied = ModelFolderFiles.Copy(source, context.OutputDirectory);
        // Nf4ModelStore writes config.json from the parsed config: keep the name the source goes by.
        BaseModelName.Write(context.OutputDirectory, BaseModelName.Of(source));

        double bytesPerParameter = (double)quantizedBytes / quantizedElements;
        context.Progress.Log(string.Create(CultureInfo.InvariantCulture,
            $"{layers} projections in NF4{(parameters.DoubleQuant ? " with double-quantized statistics" : "")}: {quantizedElements:N0} weights in " +
            $"{quantizedBytes:N0} bytes ({bytesPerParameter:F4} B/param); compute dtype {PretrainedSaver.DtypeName(computeDtype)}"));
        return Task.FromResult(new StageOutcome(new JsonObject
        {
            ["quantized_layers"] = layers,
            ["quantized_parameters"] = quantizedElements,
            ["quantized_bytes"] = quantizedBytes,
            ["bytes_per_parameter"] = Math.Round(bytesPerParameter, 6),
            ["double_quant"] = parameters.DoubleQuant,
            ["compute_dtype"] = PretrainedSaver.DtypeName(computeDtype),
            ["copied_files"] = new JsonArray(copied.Select(f => (JsonNode)f).ToArray()),
        }));
    }
}
