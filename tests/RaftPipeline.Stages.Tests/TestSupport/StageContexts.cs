using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Spec;

namespace RaftPipeline.Stages.Tests.TestSupport;

/// <summary>Collects what a stage logs.</summary>
public sealed class RecordingProgress : IStageProgress
{
    public List<string> Lines { get; } = [];
    public void Log(string message) => Lines.Add(message);
    public void Report(string step, long done, long total, string? status = null) => Lines.Add($"{step} {done}/{total} {status}");
}

public static class StageContexts
{
    /// <summary>A context for one stage with path inputs, fresh output and report folders under <paramref name="temp"/>.</summary>
    public static StageContext Create(TempFolder temp, string kind, StageParameters parameters,
        IReadOnlyDictionary<string, IReadOnlyList<string>> inputs, long seed = 1234)
    {
        string output = Directory.CreateDirectory(temp.Combine("out")).FullName;
        string report = Directory.CreateDirectory(temp.Combine("report")).FullName;
        var specInputs = inputs.ToDictionary(
            i => i.Key, i => (IReadOnlyList<StageInput>)i.Value.Select(p => (StageInput)new StageInput.FromPath(p)).ToList());
        return new StageContext
        {
            Stage = new StageSpec(kind, kind, specInputs, parameters, new SourceLocation("test.yaml", 1, 1)),
            Inputs = inputs,
            OutputDirectory = output,
            ReportDirectory = report,
            Seed = seed,
            Device = DeviceKind.Cpu,
            Progress = new RecordingProgress(),
        };
    }
}
