using RaftPipeline.MSBuild.Output;

namespace RaftPipeline.MSBuild.Tests.Output;

public sealed class ToolOutputParserTests
{
    readonly ToolOutputParser parser = new(stage => stage == "train" ? ("/p/pipeline.yaml", 31, 3) : null);

    [Theory]
    [InlineData("/p/pipeline.yaml:12:7: error: stages.train.params.lr: unknown key; did you mean 'learning_rate'?",
        "/p/pipeline.yaml(12,7): error RAFT0001: stages.train.params.lr: unknown key; did you mean 'learning_rate'?")]
    [InlineData("/p/pipeline.yaml: error: cannot read the spec: file not found",
        "/p/pipeline.yaml: error RAFT0001: cannot read the spec: file not found")]
    [InlineData("--set train.lr: error: unknown key",
        "error RAFT0001: --set train.lr: unknown key")]
    [InlineData("/p/pipeline.yaml:4:5: stage 'data', input 'files': input '/p/x.csv' does not exist",
        "/p/pipeline.yaml(4,5): error RAFT0001: stage 'data', input 'files': input '/p/x.csv' does not exist")]
    [InlineData("[6/9] train: failed: CUDA out of memory",
        "/p/pipeline.yaml(31,3): error RAFT0002: stage 'train' failed: CUDA out of memory")]
    [InlineData("[2/9] format: failed: bad template",
        "error RAFT0002: stage 'format' failed: bad template")]
    [InlineData("error: the cache lock is held by pid 12",
        "error RAFT0003: the cache lock is held by pid 12")]
    public void Error_lines_become_canonical_diagnostics(string line, string expected) =>
        Assert.Equal(expected, parser.Parse(line)?.ToString());

    [Theory]
    [InlineData("[6/9] train: running")]
    [InlineData("[6/9] train: ran 3fa2c1d0 in 1m 02s")]
    [InlineData("  train: step 10/20 loss 2.31")]
    [InlineData("run folder: /p/runs/quickstart/20261124-101010")]
    [InlineData("  train: learning rate: 2e-4")]
    [InlineData("9 stages: 3 in the cache, 6 to run")]
    public void Progress_lines_are_not_errors(string line) => Assert.Null(parser.Parse(line));
}
