using System.CommandLine;
using System.Text.Json.Nodes;
using RaftPipeline.Cli.Commands.Run;
using RaftPipeline.Cli.Commands.Run.Distributed;
using RaftPipeline.Cli.Console;
using RaftPipeline.Cli.Tests.Support;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Stages;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace RaftPipeline.Cli.Tests.Run;

/// <summary>
/// <c>raft run --gpus 2 --device cpu</c> end to end: two real worker processes of the tool, summing gradients over the
/// TCP collective, train the quickstart's adapter (shortened) like one process with twice the batch; rank 0 alone
/// publishes; a failing rank stops the run with its message and a non-zero exit code.
/// </summary>
public sealed class DataParallelRunTests(ITestOutputHelper output) : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("raft-ddp-run-").FullName;
    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static string Spec => Path.Combine(RepoPaths.Root, "pipelines", "quickstart.yaml");

    // Short rows, few steps, a log every 2 steps: the quickstart's train stage in seconds.
    static string[] Shortened(int batch) =>
    [
        "--set", $"train.batch_size={batch}", "--set", "train.max_steps=4", "--set", "train.max_seq_length=768",
        "--set", "train.logging_steps=2", "--set", "data.test_size=2",
    ];

    (int Exit, string Output, string Error) Cli(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int exit = RaftCli.BuildRoot().Parse(args).Invoke(new InvocationConfiguration { Output = o, Error = e });
        output.WriteLine($"$ raft {string.Join(' ', args)}\n{o}\n{e}\nexit {exit}");
        return (exit, o.ToString(), e.ToString());
    }

    static Dictionary<string, float[]> Adapter(string dir)
    {
        TorchRuntime.EnsureInitialized();
        using var file = SafetensorsCheckpoint.Open(Path.Combine(dir, "adapter_model.safetensors"));
        return file.TensorNames.ToDictionary(n => n, n =>
        {
            using var t = file.Read(n, CPU, ScalarType.Float32);
            return t.data<float>().ToArray();
        });
    }

    [Fact]
    public void Two_cpu_ranks_train_the_adapter_of_one_process_with_twice_the_batch_and_publish_once()
    {
        string cache2 = Path.Combine(_folder, "cache-2ranks"), cache1 = Path.Combine(_folder, "cache-1");
        var two = Cli(["run", Spec, "train", "--gpus", "2", "--device", "cpu", "--set", $"cache={cache2}",
            "--run-dir", Path.Combine(_folder, "run-2ranks"), .. Shortened(batch: 1)]);
        Assert.True(two.Exit == 0, two.Error);
        var one = Cli(["run", Spec, "train", "--device", "cpu", "--set", $"cache={cache1}",
            "--run-dir", Path.Combine(_folder, "run-1"), .. Shortened(batch: 2)]);
        Assert.True(one.Exit == 0, one.Error);

        var lock2 = RunLock.Read(Path.Combine(_folder, "run-2ranks", RunLock.FileName));
        var lock1 = RunLock.Read(Path.Combine(_folder, "run-1", RunLock.FileName));
        string train2 = lock2.Stage("train")!.Artifact!, train1 = lock1.Stage("train")!.Artifact!;
        // Published once, into the shared cache, by rank 0: one train entry there (its data/ and report/ folders).
        Assert.Single(Directory.GetFiles(cache2, "train_summary.json", SearchOption.AllDirectories)
            .Select(f => Path.GetDirectoryName(Path.GetDirectoryName(f))).Distinct());
        Assert.DoesNotContain("[rank 1]", two.Error);

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(train2, "train_summary.json")))!.AsObject();
        Assert.Equal(2, summary["world_size"]!.GetValue<int>());
        Assert.Equal(1, summary["per_device_batch_size"]!.GetValue<int>());
        Assert.Equal(2, summary["effective_batch_size"]!.GetValue<int>());
        Assert.Equal(2, summary["hyperparameters"]!["world_size"]!.GetValue<int>());

        // Same losses and adapter as one process with batch 2 (tolerance: fp32 summation order only).
        static List<double> Losses(string dir) => File.ReadAllLines(Path.Combine(dir, "metrics.jsonl"))
            .Select(l => JsonNode.Parse(l)!.AsObject()).Where(o => o["loss"] is not null).Select(o => o["loss"]!.GetValue<double>()).ToList();
        var (l2, l1) = (Losses(train2), Losses(train1));
        Assert.Equal(l1.Count, l2.Count);
        Assert.All(l1, l => Assert.True(l > 0.1, $"a logged loss of {l}: the shortened rows must keep answers to learn"));
        double worstLoss = l1.Zip(l2, (a, b) => Math.Abs(a - b) / Math.Abs(a)).Max();
        var (a2, a1) = (Adapter(train2), Adapter(train1));
        Assert.Equal(a1.Keys.Order(), a2.Keys.Order());
        double worstWeight = a1.Max(kv => kv.Value.Zip(a2[kv.Key], (x, y) => (double)Math.Abs(x - y)).Max());
        output.WriteLine($"2 ranks vs batch × 2: logged losses {string.Join(", ", l2)}; max relative loss difference {worstLoss:E2}, max adapter difference {worstWeight:E2}");
        Assert.True(worstLoss < 1e-4, $"losses differ by {worstLoss:E2} relative");
        Assert.True(worstWeight < 1e-4, $"adapters differ by {worstWeight:E2}");
    }

    [Fact]
    public void A_failing_rank_stops_the_run_with_its_message_and_a_non_zero_exit_code()
    {
        Environment.SetEnvironmentVariable(DistributedRun.FailRankVariable, "1");
        try
        {
            var run = Cli(["run", Spec, "train", "--gpus", "2", "--device", "cpu", "--set", $"cache={Path.Combine(_folder, "cache")}",
                "--run-dir", Path.Combine(_folder, "run"), .. Shortened(batch: 1)]);
            Assert.Equal(RaftCli.ExitCodes.Failed, run.Exit);
            Assert.Contains("rank 1 failed: injected failure (RAFT_TEST_FAIL_RANK=1)", run.Error); // rank 0's train stage stops with it
            Assert.Contains("data-parallel run failed: rank 1 exited first with code 1", run.Error);
            var runLock = RunLock.Read(Path.Combine(_folder, "run", RunLock.FileName));
            Assert.Equal(StageStatus.Failed, runLock.Stage("train")!.Status);
        }
        finally { Environment.SetEnvironmentVariable(DistributedRun.FailRankVariable, null); }
    }

    [Fact]
    public void Worker_arguments_repeat_the_command_line_without_gpus()
    {
        var options = new RunOptions("p.yaml", ["train"], ["a=1"], "out", Verify: true, Device: "cpu", LockTimeout: TimeSpan.FromSeconds(5), Gpus: 4);
        Assert.Equal(["run", "p.yaml", "train", "--set", "a=1", "--run-dir", "out", "--verify", "--device", "cpu", "--lock-timeout", "5"], options.WorkerArguments());
        var exporting = options with { Exports = ["merged=dist/m"], Force = true };
        Assert.Equal(["run", "p.yaml", "train", "--set", "a=1", "--run-dir", "out", "--verify", "--device", "cpu", "--export", "merged=dist/m", "--force", "--lock-timeout", "5"],
            exporting.WorkerArguments());
        Assert.Equal(["2", "5"], WorkerLauncher.VisibleDevices("2,5,7", 2));
        Assert.Equal(["0", "1", "2"], WorkerLauncher.VisibleDevices(null, 3));
        Assert.Equal("3", CudaDeviceBinding.Narrowed("1,3", 1));
        Assert.Null(CudaDeviceBinding.Narrowed("6", 0));
        Assert.Equal("2", CudaDeviceBinding.Narrowed(null, 2));
    }
}
