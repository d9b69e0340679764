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
    [InlineData("/p/pipeline.yaml:4:5: stage 'data': no executor is registered for kind 'load' (this build registers none)",
        "/p/pipeline.yaml(4,5): error RAFT0001: stage 'data': no executor is registered for kind 'load' (this build registers none)")]
    [InlineData("/p/pipeline.yaml: unknown stage 'trian'; did you mean 'train'?",
        "/p/pipeline.yaml: error RAFT0001: unknown stage 'trian'; did you mean 'train'?")]
    [InlineData("stage 'train' (train) failed: CUDA out of memory",
        "/p/pipeline.yaml(31,3): error RAFT0002: stage 'train' (train) failed: CUDA out of memory")]
    [InlineData("stage 'formatted' (format) failed: bad template",
        "error RAFT0002: stage 'formatted' (format) failed: bad template")]
    [InlineData("error: the cache lock is held by pid 12",
        "error RAFT0003: the cache lock is held by pid 12")]
    [InlineData("not run: the cache /p/.raft-cache was held by pid 12 for 30 min",
        "error RAFT0003: the cache /p/.raft-cache was held by pid 12 for 30 min")]
    public void Error_lines_become_canonical_diagnostics(string line, string expected) =>
        Assert.Equal(expected, parser.Parse(line)?.ToString());

    [Theory]
    [InlineData("[6/9] train: running")]
    [InlineData("[6/9] train: ran 3fa2c1d0 in 1m 02s")]
    [InlineData("[6/9] train: failed: CUDA out of memory")] // reported once, by the summary line
    [InlineData("failed: 2 ran, 1 reused, 1 failed in 3.2s")]
    [InlineData("  data: read examples/data.yaml: 3 rows")]
    [InlineData("  train: step 10/20 loss 2.31")]
    [InlineData("run folder: /p/runs/quickstart/20261124-101010")]
    [InlineData("  train: learning rate: 2e-4")]
    [InlineData("9 stages: 3 in the cache, 6 to run")]
    public void Progress_lines_are_not_errors(string line) => Assert.Null(parser.Parse(line));
}
