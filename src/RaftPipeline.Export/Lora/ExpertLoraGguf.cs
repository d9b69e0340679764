using System.Text.RegularExpressions;
using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Quantization;
using RaftPipeline.Export.Source;

namespace RaftPipeline.Export.Lora;

/// <summary>
/// peft's LoRA on Qwen3-MoE's expert tensors (target_parameters mlp.experts.gate_up_proj / down_proj, see
/// RaftPipeline.Modeling's ExpertLora) as llama.cpp's per-expert adapter tensors. peft keeps one A [r·E, in] and one
/// B [out, r·E] per tensor; expert e's update is B_e·A_e with A_e = A's rows e·r … e·r + r − 1 and B_e = B's columns
/// j·E + e. llama.cpp's MoE graph applies an adapter on a stacked ffn_*_exps weight per selected expert
/// (build_lora_mm_id: mul_mat_id over lora_a [E, r, in] and lora_b [E, out, r], PyTorch order), so each expert's
/// rank-r factors are written as they are: A unchanged (its rows are already expert-major), B's columns regrouped.
/// gate_up_proj's out rows are gate | up: B's two halves go to ffn_gate_exps and ffn_up_exps, sharing A.
/// </summary>
static partial class ExpertLoraGguf
{
    [GeneratedRegex(@"^model\.layers\.(\d+)\.mlp\.experts((?:\.base_layer)*)$")]
    private static partial Regex ExpertModule();

    public static bool IsExpertModule(string module) => module.Contains(".mlp.experts", StringComparison.Ordinal);

    /// <summary>The expert tensors peft may wrap, in its wrapping order (transformers' Qwen3MoeExperts order).</summary>
    static readonly string[] WrapOrder = ["gate_up_proj", "down_proj"];

    public static IEnumerable<GgufTensorPlan> Plans(string module, SafetensorsTensors tensors, SafetensorsTensors.Entry a, SafetensorsTensors.Entry b,
        IReadOnlyList<string> targetParameters, int rank, GgufArchitecture architecture, string adapterFolder)
    {
        var m = ExpertModule().Match(module);
        int experts = architecture.Config.ExpertCount ?? 0;
        if (!m.Success || experts == 0)
            throw new ExportException(adapterFolder, $"module '{module}' is not an expert tensor of this {architecture.Config.ModelType} model");
        var expertsPath = $"model.layers.{m.Groups[1].Value}.mlp.experts";
        // peft nests one wrapper per targeted tensor, the first wrapped innermost: each later one adds a ".base_layer".
        var targeted = WrapOrder.Where(p => targetParameters.Any(t => $"{expertsPath}.{p}" == t || $"{expertsPath}.{p}".EndsWith("." + t, StringComparison.Ordinal))).ToList();
        int wrappedLater = m.Groups[2].Value.Length / ".base_layer".Length;
        if (wrappedLater >= targeted.Count)
            throw new ExportException(adapterFolder, $"module '{module}': adapter_config.json's target_parameters [{string.Join(", ", targetParameters)}] " +
                "do not name the expert tensor it adapts");
        var parameter = targeted[targeted.Count - 1 - wrappedLater];
        long inFeatures = a.Shape[1], outFeatures = b.Shape[0];
        if (a.Shape.Length != 2 || b.Shape.Length != 2 || a.Shape[0] != (long)rank * experts || b.Shape[1] != (long)rank * experts)
            throw new ExportException(adapterFolder, $"module '{module}' ({parameter}): A [{string.Join(", ", a.Shape)}] and B [{string.Join(", ", b.Shape)}] " +
                $"are not [r·experts, in] and [out, r·experts] for r {rank}, {experts} experts");
        string layer = m.Groups[1].Value;
        long[] aShape = [experts, rank, inFeatures];
        byte[] ReadA() => FloatFormats.ToF32(tensors.ReadFloats(a.Name));
        if (parameter == "down_proj")
        {
            var name = $"blk.{layer}.ffn_down_exps.weight";
            yield return new GgufTensorPlan(name + ".lora_a", aShape, GgmlType.F32, ReadA);
            yield return new GgufTensorPlan(name + ".lora_b", [experts, outFeatures, rank], GgmlType.F32,
                () => FloatFormats.ToF32(PerExpertB(tensors.ReadFloats(b.Name), outFeatures, rank, experts, 0, outFeatures)));
            yield break;
        }
        long half = outFeatures / 2;
        foreach (var (part, first) in new[] { ("ffn_gate_exps", 0L), ("ffn_up_exps", half) })
        {
            var name = $"blk.{layer}.{part}.weight";
            yield return new GgufTensorPlan(name + ".lora_a", aShape, GgmlType.F32, ReadA);
            yield return new GgufTensorPlan(name + ".lora_b", [experts, half, rank], GgmlType.F32,
                () => FloatFormats.ToF32(PerExpertB(tensors.ReadFloats(b.Name), outFeatures, rank, experts, first, half)));
        }
    }

    /// <summary>[E, rows, r] from B [out, r·E]: value [e, o, j] = B[first + o, j·E + e].</summary>
    static float[] PerExpertB(float[] b, long outFeatures, int rank, int experts, long first, long rows)
    {
        long width = (long)rank * experts;
        var result = new float[experts * rows * rank];
        for (int e = 0; e < experts; e++)
            for (long o = 0; o < rows; o++)
                for (int j = 0; j < rank; j++)
                    result[(e * rows + o) * rank + j] = b[(first + o) * width + (long)j * experts + e];
        return result;
    }
}
