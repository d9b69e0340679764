using RaftPipeline.Cli.Commands.Run;
using RaftPipeline.Cli.Tests.Support;
using RaftPipeline.Core.Runs;

namespace RaftPipeline.Cli.Tests.Run;

/// <summary>
/// An unusable cache or run folder is one line naming the path and what is wrong, exit 3 (not 2, not a stack trace),
/// and nothing is left half-written: no temporary file, no lock file that says "running".
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class StorageFailureTests
{
    static string OneLine(string text)
    {
        var lines = text.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return Assert.Single(lines);
    }

    [Fact]
    public async Task A_read_only_cache_with_everything_cached_is_one_line_and_exit_3()
    {
        using var p = new CliPipeline();
        Assert.Equal(0, (await p.RunAsync()).Exit);
        using var mounts = new TestMounts();
        mounts.MakeReadOnly(p.Cache);

        var run = await p.RunAsync();
        Assert.Equal(RaftCli.ExitCodes.StorageError, run.Exit);
        var line = OneLine(run.Error);
        Assert.StartsWith($"cache folder '{p.Cache}': ", line);
        Assert.True(line.Contains("read-only file system") || line.Contains("permission denied"), line);
        Assert.Single(p.Runs()); // no run folder for a run that could not start
    }

    [Theory]
    [InlineData("/dev/null", "a file, not a folder")]
    [InlineData("/proc/raft-cache", "cannot be created (")]
    [InlineData("/proc/self/status/raft-cache", "cannot be created (")]
    public async Task A_cache_that_cannot_be_a_folder_is_one_line_and_exit_3(string cache, string reason)
    {
        using var p = new CliPipeline();
        var run = await p.RunAsync(new RunOptions(p.SpecPath, [], [$"cache={cache}"]));
        Assert.Equal(RaftCli.ExitCodes.StorageError, run.Exit);
        Assert.StartsWith($"cache folder '{cache}': {reason}", OneLine(run.Error));
        Assert.Empty(p.Runs());
    }

    [Fact]
    public void A_run_folder_that_is_a_file_is_one_line_and_exit_3_through_the_command_line()
    {
        using var p = new CliPipeline();
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = RaftCli.BuildRoot().Parse(["run", p.SpecPath, "--run-dir", "/dev/null"])
            .Invoke(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        Assert.Equal(RaftCli.ExitCodes.StorageError, exit);
        Assert.Equal("run folder '/dev/null': a file, not a folder", OneLine(error.ToString()));
    }

    [Fact]
    public async Task A_full_disk_under_the_run_folder_is_one_line_exit_3_and_leaves_no_temporary_file_and_no_running_lock()
    {
        using var p = new CliPipeline();
        Assert.Equal(0, (await p.RunAsync()).Exit); // the cache (on the real disk) holds everything
        var outcomes = new List<int>();
        // Free space from nothing to enough: the run meets the full disk at each of its writes in turn.
        foreach (var free in new[] { 0, 4, 8, 12, 16, 24, 48 })
        {
            using var mounts = new TestMounts();
            var disk = Path.Combine(p.Folder, $"small-{free}");
            mounts.SmallDisk(disk, 64, free);
            var runDir = Path.Combine(disk, "run");
            var run = await p.RunAsync(new RunOptions(p.SpecPath, [], [], RunDirectory: runDir));
            outcomes.Add(run.Exit);
            Assert.True(run.Exit is 0 or RaftCli.ExitCodes.StorageError, $"{free} KB free: exit {run.Exit}\n{run.Output}\n{run.Error}");
            if (run.Exit == RaftCli.ExitCodes.StorageError)
            {
                var line = OneLine(run.Error);
                Assert.StartsWith($"run folder '{runDir}': no space left on the device", line);
            }
            Assert.Empty(Directory.EnumerateFiles(disk, "*.tmp", SearchOption.AllDirectories));
            var lockPath = Path.Combine(runDir, RunLock.FileName);
            if (File.Exists(lockPath)) Assert.NotEqual("running", RunLock.ReadRecorded(lockPath).Status);
            Assert.False(File.Exists(Path.Combine(runDir, RunLiveness.FileName)));
        }
        Assert.Contains(RaftCli.ExitCodes.StorageError, outcomes);
        Assert.Equal(0, outcomes[^1]);
    }
}
