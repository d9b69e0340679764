using RaftPipeline.Modeling.Adapters;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Lora;

/// <summary>
/// peft's lora.ParamWrapper on one 3-D expert tensor of a Qwen3-MoE layer (target_parameters): one A [r·experts, in]
/// and one B [out, r·experts] for all experts, fp32. Expert e's update is scaling · B_e · A_e with A_e = A's rows
/// e·r … e·r + r − 1 and B_e = B's columns j·experts + e (j &lt; r): peft reshapes A to [experts, r, in] and B to
/// [out, r, experts] (get_delta_weight). peft adds that update to the expert's weight before F.linear; we add
/// x·A_eᵀ·B_eᵀ·scaling to the expert's output, the same sum. For gate_up_proj, out is 2·inner with rows gate | up.
/// </summary>
public sealed class ExpertLora : nn.Module
{
    public const string GateUpProj = "gate_up_proj";
    public const string DownProj = "down_proj";

    /// <summary>The expert tensors peft can wrap, in the order it wraps them (their order in transformers' Qwen3MoeExperts).</summary>
    public static readonly IReadOnlyList<string> ParameterNames = [GateUpProj, DownProj];

    public Parameter lora_A;
    public Parameter lora_B;

    public ExpertLora(string parameterName, int experts, long inFeatures, long outFeatures, LoraConfig config, string path, Device device)
        : base(nameof(ExpertLora))
    {
        config.Validate();
        // peft's ParamWrapper refuses dropout: x cannot be factored out of B(A(dropout(x))) once the update joins W.
        if (config.Dropout > 0)
            throw new ArgumentException($"lora_dropout {config.Dropout} is not supported on target_parameters (supported: 0.0, as peft's ParamWrapper)");
        if (!ParameterNames.Contains(parameterName)) throw new ArgumentException($"'{parameterName}' is not an expert tensor ({string.Join(", ", ParameterNames)})");
        ParameterName = parameterName;
        Experts = experts;
        R = config.R;
        Scaling = config.Scaling;
        lora_A = new Parameter(torch.empty([config.R * experts, inFeatures], ScalarType.Float32, device));
        lora_B = new Parameter(torch.empty([outFeatures, config.R * experts], ScalarType.Float32, device));
        LoraLinear.InitializeFactors(lora_A, lora_B, config, path);
        RegisterComponents();
    }

    public string ParameterName { get; }
    public int Experts { get; }
    public int R { get; }
    public double Scaling { get; }

    /// <summary>scaling · (x·A_eᵀ)·B_eᵀ for expert e's rows x [n, in], in x's dtype (16-bit activations: the factors cast down, as LoraLinear does).</summary>
    public Tensor Delta(int expert, Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var (a, b) = Factors(lora_A, lora_B, expert, R, Experts);
        var dtype = x.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? x.dtype : ScalarType.Float32;
        var delta = nn.functional.linear(nn.functional.linear(x.to(dtype), a.to(dtype)), b.to(dtype)) * Scaling;
        return delta.to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>scaling · B_e @ A_e [out, in] in fp32 (peft get_delta_weight for expert e).</summary>
    public Tensor DeltaWeight(int expert) => DeltaWeight(lora_A, lora_B, expert, R, Experts, Scaling);

    /// <summary>Expert e's update [out, in] from a saved A [r·experts, in] and B [out, r·experts]; shared with the merge.</summary>
    public static Tensor DeltaWeight(Tensor a, Tensor b, int expert, int r, int experts, double scaling)
    {
        using var scope = torch.NewDisposeScope();
        var (ae, be) = Factors(a, b, expert, r, experts);
        return (torch.matmul(be.to(ScalarType.Float32), ae.to(ScalarType.Float32)) * scaling).MoveToOuterDisposeScope();
    }

    /// <summary>A_e [r, in] and B_e [out, r] of expert e (views).</summary>
    static (Tensor A, Tensor B) Factors(Tensor a, Tensor b, int expert, int r, int experts) =>
        (a.narrow(0, (long)expert * r, r), b.view(b.shape[0], r, experts).select(2, expert));

    /// <summary>
    /// The expert tensors of the layer at <paramref name="expertsPath"/> (e.g. model.layers.0.mlp.experts) that
    /// <paramref name="targetParameters"/> selects, in peft's wrapping order: peft's rule, the full name
    /// (<paramref name="expertsPath"/>.gate_up_proj) equal to an entry or ending in "." + the entry.
    /// </summary>
    public static IReadOnlyList<string> Targeted(string expertsPath, IReadOnlyList<string> targetParameters) =>
        ParameterNames.Where(p =>
        {
            var key = $"{expertsPath}.{p}";
            return targetParameters.Any(t => key == t || key.EndsWith("." + t, StringComparison.Ordinal));
        }).ToList();

    /// <summary>
    /// Refuses target_parameters entries that select no expert tensor of the layers at <paramref name="expertsPaths"/>:
    /// peft would wrap whatever parameter such an entry names (a router weight, a 2-D projection), which we do not
    /// adapt, so it is refused rather than left out. <paramref name="source"/> names the file or setting in the message.
    /// </summary>
    public static void CheckSupported(IReadOnlyList<string> targetParameters, IReadOnlyList<string> expertsPaths, string source)
    {
        foreach (var t in targetParameters)
            if (!expertsPaths.Any(path => Targeted(path, [t]).Count > 0))
                throw new ArgumentException(
                    $"{source}: target_parameters entry '{t}' selects no expert tensor of this model (supported: " +
                    (expertsPaths.Count == 0 ? "none, the model has no expert layers" : "mlp.experts.gate_up_proj, mlp.experts.down_proj") + ")");
    }

    /// <summary>
    /// The module path peft saves a wrapped tensor's A and B under: peft nests one ParamWrapper per tensor, the one
    /// wrapped first innermost, so each later-wrapped tensor adds a ".base_layer" to it (both adapted:
    /// experts.base_layer.lora_A for gate_up_proj, experts.lora_A for down_proj).
    /// </summary>
    public static string SavedModulePath(string expertsPath, string parameterName, IReadOnlyList<string> targeted)
    {
        int wrappedLater = targeted.Count - 1 - targeted.ToList().IndexOf(parameterName);
        if (wrappedLater >= targeted.Count) throw new ArgumentException($"'{parameterName}' is not among the targeted tensors");
        return expertsPath + string.Concat(Enumerable.Repeat(".base_layer", wrappedLater));
    }

    /// <summary>The saved keys of A and B (peft's names, see <see cref="SavedModulePath"/>).</summary>
    public static (string A, string B) SavedKeys(string expertsPath, string parameterName, IReadOnlyList<string> targeted)
    {
        var module = SavedModulePath(expertsPath, parameterName, targeted);
        return (AdapterKeys.A(module), AdapterKeys.B(module));
    }
}
