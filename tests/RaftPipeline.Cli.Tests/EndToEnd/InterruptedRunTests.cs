using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using RaftPipeline.Cli.Tests.Support;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.Runs;
using RaftPipeline.Core.Store;
using Xunit.Abstractions;

namespace RaftPipeline.Cli.Tests.EndToEnd;

/// <summary>
/// Issue 19's chaos test: a small CPU pipeline (the tiny preset, 5 train steps, a checkpoint every 2) is started as a
/// child process of the tool and interrupted again and again, each time rerun on the same cache:
/// <list type="number">
/// <item>SIGKILL at a random moment early in the run (the first stages, their publishing);</item>
/// <item>SIGTERM once train has logged its first step: the tool checkpoints at the next step boundary and exits 143;</item>
/// <item>SIGKILL right after the rerun (which says it resumed) writes its next checkpoint;</item>
/// <item>SIGKILL at random moments over a whole run's length (RAFT_CHAOS_ROUNDS of them, 1 by default; a run that
/// completes first empties the cache, so the next rounds start over).</item>
/// </list>
/// After every interruption <c>raft cache verify</c> is clean; a rerun that ends on its own succeeds; the last rerun
/// succeeds, and every artifact is byte-identical to an uninterrupted run's (the wall-clock fields aside).
/// The moments come from a seeded generator (RAFT_CHAOS_SEED, 19 by default, printed); about 40-60 s on 2 cores.
/// </summary>
public sealed class InterruptedRunTests(ITestOutputHelper output) : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("raft-chaos-").FullName;

    string SpecPath => Path.Combine(_folder, "chaos.yaml");

    void WriteSpec()
    {
        string csv = Path.Combine(RepoPaths.Root, "examples", "data", "RAG_Data_full.csv").Replace('\\', '/');
        File.WriteAllText(SpecPath, $$"""
            name: chaos
            seed: 7
            device: cpu
            stages:
              base:
                kind: model
                params: { preset: tiny }
              data:
                kind: load
                inputs: { files: ["{{csv}}"] }
                params: { encoding: cp949, columns: { context: context, question: question, answer: cot }, shuffle_seed: 7, test_size: 2 }
              formatted:
                kind: format
                inputs: { data: data, model: base }
                params: { system_prompt: Answer rudely. }
              adapter:
                kind: lora
                inputs: { model: base }
                params: { r: 2, lora_alpha: 4, lora_dropout: 0, target_modules: [q_proj, v_proj] }
              train:
                kind: train
                inputs: { model: base, adapter: adapter, data: formatted }
                params: { max_steps: 12, batch_size: 1, max_seq_length: 256, learning_rate: 3e-3, logging_steps: 1, save_steps: 2, optimizer: adamw_8bit }
              merged:
                kind: merge
                inputs: { model: base, adapter: train }
                params: { dtype: bf16 }
            """);
    }

    (int Exit, string Text) Cli(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int exit = RaftCli.BuildRoot().Parse(args).Invoke(new InvocationConfiguration { Output = o, Error = e });
        return (exit, o + e.ToString());
    }

    string[] RunArgs(string cache, string runDir) => ["run", SpecPath, "--set", $"cache={cache}", "--run-dir", runDir];

    static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var v) && v >= 0 ? v : fallback;

    /// <summary>The steps of the complete checkpoints in the cache's checkpoint areas.</summary>
    static List<int> Checkpoints(string cache)
    {
        var areas = Path.Combine(cache, CheckpointAreas.FolderName);
        if (!Directory.Exists(areas)) return [];
        return Directory.EnumerateDirectories(areas).SelectMany(Directory.EnumerateDirectories)
            .Select(Path.GetFileName).Where(n => n!.StartsWith("checkpoint-", StringComparison.Ordinal) && !n.EndsWith(".tmp", StringComparison.Ordinal))
            .Select(n => int.Parse(n!["checkpoint-".Length..], System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
    }

    [Fact]
    public async Task Killed_and_terminated_runs_resume_keep_the_cache_clean_and_end_with_the_uninterrupted_artifacts()
    {
        int seed = EnvInt("RAFT_CHAOS_SEED", 19), randomRounds = EnvInt("RAFT_CHAOS_ROUNDS", 1);
        var random = new Random(seed);
        output.WriteLine($"RAFT_CHAOS_SEED={seed} RAFT_CHAOS_ROUNDS={randomRounds}");
        WriteSpec();
        string cache = Path.Combine(_folder, "cache");

        // The uninterrupted reference, in its own cache (in process: it is the timing of a whole run that matters).
        var clock = Stopwatch.StartNew();
        var reference = Cli(RunArgs(Path.Combine(_folder, "reference-cache"), Path.Combine(_folder, "reference")));
        Assert.True(reference.Exit == 0, reference.Text);
        double wholeRun = clock.Elapsed.TotalSeconds;
        output.WriteLine($"uninterrupted run: {wholeRun:F1} s");

        int attempt = 0;
        string RunDir(int n) => Path.Combine(_folder, $"attempt-{n}");
        (RaftProcess Process, string RunDir) Start()
        {
            string dir = RunDir(++attempt);
            return (new RaftProcess(RunArgs(cache, dir)), dir);
        }
        void AssertCacheClean(string after)
        {
            var verify = Cli("cache", "verify", "--cache", cache);
            Assert.True(verify.Exit == 0, $"after {after}: {verify.Text}");
        }
        async Task<bool> KillAfter(TimeSpan delay, string what)
        {
            var (p, dir) = Start();
            using (p)
            {
                if (await p.ExitsWithinAsync(delay))
                {
                    Assert.True(await p.WaitAsync(TimeSpan.FromMinutes(2)) == 0, $"attempt {attempt} ended on its own but failed:\n{p.Output}");
                    output.WriteLine($"attempt {attempt}: finished before the {what} kill at {delay.TotalSeconds:F2} s");
                    return false;
                }
                p.Kill();
                output.WriteLine($"attempt {attempt}: SIGKILL {what} at {delay.TotalSeconds:F2} s; checkpoints now [{string.Join(",", Checkpoints(cache))}]");
            }
            AssertCacheClean($"attempt {attempt}");
            return true;
        }

        // 1. SIGKILL early: in the first stages or while they publish.
        await KillAfter(TimeSpan.FromSeconds(0.5 + random.NextDouble() * wholeRun * 0.4), "early");

        // 2. SIGTERM once train has logged its first step: a checkpoint at the next step boundary, exit 143.
        int stoppedAt;
        {
            var (p, dir) = Start();
            using (p)
            {
                Assert.True(await p.WaitForAsync(() => p.Output.Contains("train: step 1: loss", StringComparison.Ordinal), TimeSpan.FromMinutes(2)), p.Output);
                p.Signal(15);
                int exit = await p.WaitAsync(TimeSpan.FromMinutes(2));
                Assert.True(exit == RaftCli.ExitCodes.Terminated, $"exit {exit}, expected 143:\n{p.Output}");
                Assert.Contains("SIGTERM: stopping after the running stage winds down", p.Output);
            }
            var stopped = RunLock.Read(Path.Combine(dir, RunLock.FileName));
            Assert.Equal("cancelled", stopped.Status);
            Assert.Equal(StageStatus.Cancelled, stopped.Stage("train")!.Status);
            stoppedAt = Checkpoints(cache).Max();
            Assert.InRange(stoppedAt, 1, 11);
            Assert.Contains($"training cancelled after optimizer step {stoppedAt} of 12", File.ReadAllText(Path.Combine(dir, RunFolder.LogFileName)));
            output.WriteLine($"attempt {attempt}: SIGTERM after train step 1 → exit 143, checkpoint at step {stoppedAt}");
            AssertCacheClean($"attempt {attempt} (SIGTERM)");
        }

        // 3. The rerun resumes from that checkpoint; SIGKILL right after it writes its next one.
        bool resumedChecked = false;
        {
            var (p, dir) = Start();
            using (p)
            {
                int before = Checkpoints(cache).Max();
                if (await p.WaitForAsync(() => Checkpoints(cache) is { Count: > 0 } c && c.Max() > before, TimeSpan.FromMinutes(2)))
                {
                    await Task.Delay(random.Next(0, 300));
                    p.Kill();
                    output.WriteLine($"attempt {attempt}: SIGKILL after a checkpoint; checkpoints now [{string.Join(",", Checkpoints(cache))}]");
                }
                else Assert.True(await p.WaitAsync(TimeSpan.FromMinutes(2)) == 0, p.Output);
            }
            Assert.Contains($"resumed from step {stoppedAt} of 12", File.ReadAllText(Path.Combine(dir, RunFolder.LogFileName)));
            resumedChecked = true;
            AssertCacheClean($"attempt {attempt} (after a checkpoint)");
        }

        // 4. SIGKILL at random moments over a whole run's length. A run that completes before its kill empties the
        // cache, so a long budget (RAFT_CHAOS_ROUNDS) keeps landing kills in every stage, not in a finished pipeline.
        for (int i = 0; i < randomRounds; i++)
            if (!await KillAfter(TimeSpan.FromSeconds(random.NextDouble() * wholeRun), "at random"))
            {
                Directory.Delete(cache, recursive: true);
                output.WriteLine("the pipeline completed: the following rounds start on an empty cache");
            }

        // The last rerun, uninterrupted: succeeds, the cache verifies, the artifacts are the reference's.
        var last = Cli(RunArgs(cache, RunDir(++attempt)));
        Assert.True(last.Exit == 0, last.Text);
        AssertCacheClean("the last rerun");
        Assert.True(resumedChecked);
        Assert.Empty(Checkpoints(cache)); // removed once train published
        var expected = RunLock.Read(Path.Combine(_folder, "reference", RunLock.FileName));
        var actual = RunLock.Read(Path.Combine(RunDir(attempt), RunLock.FileName));
        Assert.Equal("succeeded", actual.Status);
        foreach (var stage in expected.Stages)
        {
            var got = actual.Stage(stage.Name)!;
            Assert.Equal(stage.Key, got.Key);
            AssertSameArtifact(stage.Artifact!, got.Artifact!, stage.Name);
        }
    }

    /// <summary>
    /// Same files, same bytes; the two wall-clock fields of a training run (tokens/s in metrics.jsonl, runtime_seconds in
    /// train_summary.json and the adapter cards' table of it) differ between any two runs and are compared without.
    /// </summary>
    static void AssertSameArtifact(string expected, string actual, string stage)
    {
        static List<string> Files(string dir) =>
            Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).Order(StringComparer.Ordinal).ToList();
        var files = Files(expected);
        Assert.Equal(files, Files(actual));
        foreach (var file in files)
        {
            string a = Path.Combine(expected, file), b = Path.Combine(actual, file);
            if (Path.GetFileName(file) is "metrics.jsonl" or "train_summary.json" or "README.md") // the cards show train_summary too
                Assert.True(WithoutTimings(a) == WithoutTimings(b), $"{stage}/{file} differs:\n{File.ReadAllText(a)}\n---\n{File.ReadAllText(b)}");
            else
                Assert.True(File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b)), $"{stage}/{file} differs from the uninterrupted run's");
        }
    }

    static string WithoutTimings(string path) => string.Join("\n", File.ReadAllLines(path).Where(l => l.Length > 0).Select(line =>
    {
        if (!line.TrimStart().StartsWith('{') || !line.TrimEnd().EndsWith('}')) return line; // an indented JSON file's inner lines
        var o = JsonNode.Parse(line)!.AsObject();
        o.Remove("tokens_per_second");
        return o.ToJsonString();
    }).Where(l => !l.Contains("runtime_seconds", StringComparison.Ordinal)));

    public void Dispose()
    {
        foreach (var file in Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories))
            File.SetAttributes(file, FileAttributes.Normal);
        Directory.Delete(_folder, recursive: true);
    }
}
