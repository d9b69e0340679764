namespace RaftPipeline.Export.Tests.Support;

/// <summary>How close llama.cpp's logits are to ours over the same positions: top-1 agreement, and the largest and mean
/// absolute logit difference relative to the spread (max - min) of our logits at that position.</summary>
public sealed record Agreement(int Positions, int Top1Agree, double MaxAbsError, double MeanAbsError, double MaxRelativeError)
{
    public double Top1Rate => (double)Top1Agree / Positions;

    public static Agreement Measure(float[][] ours, float[][] theirs)
    {
        if (ours.Length != theirs.Length) throw new ArgumentException("different numbers of positions");
        int agree = 0;
        double maxAbs = 0, sumAbs = 0, maxRel = 0;
        long count = 0;
        for (int t = 0; t < ours.Length; t++)
        {
            var a = ours[t];
            var b = theirs[t];
            if (a.Length > b.Length) throw new ArgumentException($"llama.cpp gave {b.Length} logits, we gave {a.Length}");
            if (LlamaCpp.ArgMax(a) == LlamaCpp.ArgMax(b.AsSpan(0, a.Length))) agree++;
            double spread = a.Max() - a.Min();
            double rowMax = 0;
            for (int i = 0; i < a.Length; i++)
            {
                double d = Math.Abs(a[i] - b[i]);
                rowMax = Math.Max(rowMax, d);
                sumAbs += d;
                count++;
            }
            maxAbs = Math.Max(maxAbs, rowMax);
            maxRel = Math.Max(maxRel, rowMax / spread);
        }
        return new Agreement(ours.Length, agree, maxAbs, sumAbs / count, maxRel);
    }

    /// <summary>Per position: the largest |Δlogit| relative to the spread of our logits there.</summary>
    public static double[] RelativeErrors(float[][] ours, float[][] theirs) =>
        ours.Zip(theirs, (a, b) => a.Select((x, i) => (double)Math.Abs(x - b[i])).Max() / (a.Max() - a.Min())).ToArray();

    public override string ToString() =>
        $"top-1 {Top1Agree}/{Positions} ({Top1Rate:P0}), max |Δlogit| {MaxAbsError:G3} ({MaxRelativeError:P2} of the logit range), mean |Δlogit| {MeanAbsError:G3}";
}
