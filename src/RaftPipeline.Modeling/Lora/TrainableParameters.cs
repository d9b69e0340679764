using System.Globalization;
using RaftPipeline.Modeling.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Lora;

/// <summary>
/// peft's get_nb_trainable_parameters / print_trainable_parameters (peft_model.py). peft counts a bitsandbytes
/// Params4bit as numel * 2 (two codes per uint8 byte), i.e. the ORIGINAL element count, and the statistics
/// (absmax, quant maps) are not parameters; our NF4 layers count the same way. Tied weights count once
/// (named_parameters de-duplicates shared tensors).
/// </summary>
public readonly record struct TrainableParameters(long Trainable, long All)
{
    public static TrainableParameters Count(nn.Module model)
    {
        long trainable = 0, all = 0;
        var seen = new HashSet<IntPtr>();
        foreach (var (_, p) in model.named_parameters())
        {
            if (!seen.Add(p.Handle)) continue;
            all += p.numel();
            if (p.requires_grad) trainable += p.numel();
        }
        foreach (var (_, m) in model.named_modules())
            if (m is Nf4Linear q) all += q.InFeatures * q.OutFeatures;
        return new TrainableParameters(trainable, all);
    }

    /// <summary>Exactly peft's line: f"trainable params: {t:,d} || all params: {a:,d} || trainable%: {100 * t / a:.4f}".</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"trainable params: {Trainable:N0} || all params: {All:N0} || trainable%: {100.0 * Trainable / All:F4}");
}
