using RaftPipeline.MSBuild.Output;

namespace RaftPipeline.MSBuild.Tests.Output;

/// <summary>Which tool lines a build at MSBuild's default verbosity shows (high importance) and which it keeps for -v:n.</summary>
public sealed class ToolProgressTests
{
    [Theory]
    [InlineData("[3/9] train: running")]
    [InlineData("[3/9] train: ran 8d6f53709f97 in 15.1 s")]
    [InlineData("[1/1] data: reused aaaaaaaaaaaa")]
    [InlineData("  train: step 40/200 loss 2.1 ETA 2m10s")]
    [InlineData("succeeded: 10 ran, 0 reused in 39.6 s")]
    [InlineData("failed: 1 ran, 0 reused, 1 failed, 1 skipped")]
    [InlineData("run folder: /p/runs/quickstart/20261206-183734")]
    public void Progress_lines_are_high(string line) => Assert.True(ToolProgress.IsProgress(line));

    [Theory]
    [InlineData("  train: training data: 160 rows, 12,345 tokens")]
    [InlineData("  adapter: trainable params: 4,864 || all params: 9,827,456 || trainable%: 0.0495")]
    [InlineData("device auto: no CUDA device found, using cpu")]
    public void Stage_log_lines_stay_normal(string line) => Assert.False(ToolProgress.IsProgress(line));
}
