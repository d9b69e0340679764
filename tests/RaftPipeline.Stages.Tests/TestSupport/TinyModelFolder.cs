using RaftPipeline.Modeling.Presets;

namespace RaftPipeline.Stages.Tests.TestSupport;

/// <summary>The tiny preset (seed 7, named raft-tiny-test) written once into a temp folder, shared by a test class (xunit class fixture).</summary>
public sealed class TinyModelFolder : IDisposable
{
    readonly TempFolder _temp = new();

    public TinyModelFolder()
    {
        Path = _temp.Combine("tiny");
        TinyPreset.Write(Path, seed: 7);
        Stages.Models.BaseModelName.Write(Path, "raft-tiny-test");
    }

    public string Path { get; }

    public void Dispose() => _temp.Dispose();
}
