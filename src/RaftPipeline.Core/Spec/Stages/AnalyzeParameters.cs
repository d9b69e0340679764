using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RaftPipeline.Core.Spec.Stages;

/// <summary>Parameters of an <c>analyze</c> stage: token-length statistics of the formatted texts.</summary>
[Description("Token-length statistics of the formatted texts (mean, median, min, max, std, p90/p95/p99) and a histogram.")]
public sealed record AnalyzeParameters : StageParameters
{
    [Description("Length the trainer truncates at; the report counts the rows longer than this.")]
    [Range(1, 1_048_576)]
    public int MaxSeqLength { get; init; } = 1000;

    [Description("Number of histogram bins.")]
    [Range(1, 1000)]
    public int Bins { get; init; } = 50;
}
