using RaftPipeline.Core.Spec;

namespace RaftPipeline.Core.TestHost;

/// <summary>
/// A fixed four-stage pipeline built in code: load(files: data) → format → { analyze, train(model: folder) }.
/// Shaped like the real recipe; kinds are the real names but the parameters are <see cref="EchoParameters"/>.
/// </summary>
public static class TestPipelines
{
    public static readonly string[] Kinds = ["load", "format", "analyze", "train"];

    public static PipelineSpec Diamond(
        string specDirectory, string cacheDirectory, string dataFile, string modelFolder,
        IReadOnlyDictionary<string, EchoParameters>? parameters = null, long seed = 1234, string name = "diamond")
    {
        EchoParameters P(string stage) => parameters?.GetValueOrDefault(stage) ?? new EchoParameters { Text = stage };
        var file = Path.Combine(specDirectory, "pipeline.yaml");
        var line = 1;
        StageSpec Stage(string stageName, string kind, params (string Slot, StageInput[] Inputs)[] inputs) => new(
            stageName, kind,
            inputs.ToDictionary(i => i.Slot, i => (IReadOnlyList<StageInput>)i.Inputs),
            P(stageName), new SourceLocation(file, line++ * 4, 3));
        return new PipelineSpec(
            name, seed, DeviceKind.Cpu, Path.GetFullPath(cacheDirectory), new Dictionary<string, string>(),
            [
                Stage("load", "load", ("files", [new StageInput.FromPath(Path.GetFullPath(dataFile))])),
                Stage("format", "format", ("data", [new StageInput.FromStage("load")])),
                Stage("analyze", "analyze", ("data", [new StageInput.FromStage("format")])),
                Stage("train", "train",
                    ("data", [new StageInput.FromStage("format")]),
                    ("model", [new StageInput.FromPath(Path.GetFullPath(modelFolder))])),
            ],
            file);
    }
}
