using System.Text.Json;
using RaftPipeline.Training.Schedules;
using RaftPipeline.Training.Tests.Support;

namespace RaftPipeline.Training.Tests.Schedules;

public class LrScheduleTests
{
    [Fact]
    public void Matches_transformers_get_scheduler_for_every_fixture_case()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(RepoPaths.RequireFixture("schedules", "expected.json")));
        var cases = doc.RootElement.GetProperty("cases").EnumerateArray().ToList();
        Assert.NotEmpty(cases);
        foreach (var c in cases)
        {
            var kind = LrSchedule.ParseKind(c.GetProperty("scheduler").GetString()!);
            int total = c.GetProperty("total_steps").GetInt32();
            int expectedWarmup = c.GetProperty("warmup_steps").GetInt32();
            int warmup = c.GetProperty("warmup_ratio").ValueKind == JsonValueKind.Number
                ? LrSchedule.ResolveWarmupSteps(c.GetProperty("warmup_ratio").GetDouble(), total)
                : LrSchedule.ResolveWarmupSteps(c.GetProperty("warmup_steps_given").GetDouble(), total);
            if (kind != LrScheduleKind.Constant)
                Assert.True(expectedWarmup == warmup, $"{kind} total={total}: warmup {warmup}, transformers {expectedWarmup}");
            var schedule = new LrSchedule(kind, c.GetProperty("base_lr").GetDouble(), total, warmup);
            var lrs = c.GetProperty("lrs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(total + 1, lrs.Length);
            for (int s = 0; s < lrs.Length; s++)
            {
                double ours = schedule.LearningRateAt(s);
                // Same double operations in the same order: equal up to libm's cos (1 ulp at most).
                Assert.True(Math.Abs(ours - lrs[s]) <= 1e-15 * Math.Max(1e-30, Math.Abs(lrs[s])) + 1e-22,
                    $"{kind} total={total} warmup={warmup} step {s}: ours {ours:R}, transformers {lrs[s]:R}");
            }
        }
    }

    [Fact]
    public void Warmup_ratio_rounds_up_with_transformers_float_artefacts()
    {
        Assert.Equal(8, LrSchedule.ResolveWarmupSteps(0.07, 100)); // 100 * 0.07 = 7.000000000000001
        Assert.Equal(3, LrSchedule.ResolveWarmupSteps(0.03, 100));
        Assert.Equal(1, LrSchedule.ResolveWarmupSteps(0.1, 10));
        Assert.Equal(1, LrSchedule.ResolveWarmupSteps(0.1, 1));
        Assert.Equal(5, LrSchedule.ResolveWarmupSteps(5, 13));
        Assert.Equal(0, LrSchedule.ResolveWarmupSteps(0, 50));
    }

    [Fact]
    public void Cosine_warms_up_linearly_peaks_and_decays_to_zero()
    {
        var s = new LrSchedule(LrScheduleKind.Cosine, 2e-4, 10, 2);
        Assert.Equal(0.0, s.LearningRateAt(0));
        Assert.Equal(1e-4, s.LearningRateAt(1), 15);
        Assert.Equal(2e-4, s.LearningRateAt(2), 15);
        Assert.Equal(1e-4, s.LearningRateAt(6), 15); // half way through the decay
        Assert.Equal(0.0, s.LearningRateAt(10), 15);
        for (int i = 3; i <= 10; i++) Assert.True(s.LearningRateAt(i) < s.LearningRateAt(i - 1));
    }

    [Fact]
    public void Unknown_scheduler_name_is_a_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() => LrSchedule.ParseKind("cosine_with_restarts"));
        Assert.Contains("cosine_with_restarts", e.Message);
    }
}
