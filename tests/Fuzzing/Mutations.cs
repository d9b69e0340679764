using CsCheck;

namespace RaftPipeline.Fuzzing;

/// <summary>
/// Mutation-based fuzzing for the parsers' tests (linked into each test project): inputs are valid samples with a few
/// random edits (insert, delete, replace, duplicate a span, truncate, insert a token the format cares about), so most
/// of them get deep into the parser instead of failing at the first byte. CsCheck generates the edits and shrinks a
/// failing input to a small one.
/// <para>Budget: by default (what CI runs) each fuzz test checks the same <see cref="CiSamples"/> inputs, drawn from a
/// fixed seed, so CI turns red only when a change breaks a parser, never by the luck of a draw. On demand,
/// <c>RAFT_FUZZ_SECONDS=N</c> (e.g. 600) explores new inputs at random for N seconds per test on every core; CsCheck
/// prints the seed of a failure and <c>CsCheck_Seed=...</c> replays it. Every crash found that way gets a plain
/// regression test beside its fuzz test.</para>
/// </summary>
public static class Mutations
{
    /// <summary><c>RAFT_FUZZ_SECONDS</c>, or null for the fixed CI inputs.</summary>
    public static int? Seconds =>
        int.TryParse(Environment.GetEnvironmentVariable("RAFT_FUZZ_SECONDS"), out var s) && s > 0 ? s : null;

    /// <summary>How many fixed inputs each fuzz test checks in CI (a second or two each on a 2-core machine).</summary>
    public const int CiSamples = 2000;

    /// <summary>
    /// Checks <paramref name="assert"/> on inputs from <paramref name="gen"/>: the fixed CI inputs, or a random,
    /// time-bounded, multi-threaded CsCheck run when <c>RAFT_FUZZ_SECONDS</c> is set.
    /// </summary>
    public static void Fuzz<T>(this Gen<T> gen, Action<T> assert, Func<T, string> print)
    {
        if (Seconds is { } seconds)
        {
            gen.Sample(assert, time: seconds, print: print);
            return;
        }
        var pcg = new PCG(19, 2026);
        for (var i = 0; i < CiSamples; i++)
        {
            var value = gen.Generate(pcg, null!, out _);
            try
            {
                assert(value);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"fixed fuzz input {i} of {CiSamples} failed ({e.GetType().Name}: {e.Message}); input:\n{print(value)}", e);
            }
        }
    }

    /// <summary>One edit: what, where (any int, taken modulo the length), how long, which token or character.</summary>
    public sealed record Edit(int Kind, int Position, int Length, int Pick);

    static readonly Gen<Edit> EditGen = Gen.Select(Gen.Int[0, 5], Gen.Int.Positive, Gen.Int[1, 24], Gen.Int.Positive)
        .Select(t => new Edit(t.Item1, t.Item2, t.Item3, t.Item4));

    /// <summary>A sample from <paramref name="seeds"/> with 1 to 8 edits; <paramref name="tokens"/> are the format's interesting pieces.</summary>
    public static Gen<string> Of(IReadOnlyList<string> seeds, IReadOnlyList<string> tokens) =>
        Gen.Select(Gen.Int[0, seeds.Count - 1], EditGen.Array[1, 8]).Select(t => Apply(seeds[t.Item1], t.Item2, tokens));

    /// <summary>Bytes from <paramref name="seeds"/> with 1 to 8 edits (tokens are inserted as raw bytes).</summary>
    public static Gen<byte[]> OfBytes(IReadOnlyList<byte[]> seeds, IReadOnlyList<byte[]> tokens) =>
        Gen.Select(Gen.Int[0, seeds.Count - 1], EditGen.Array[1, 8]).Select(t => Apply(seeds[t.Item1], t.Item2, tokens));

    public static string Apply(string seed, IEnumerable<Edit> edits, IReadOnlyList<string> tokens) =>
        new(Apply(seed.ToCharArray(), edits, tokens.Select(t => t.ToCharArray()).ToList(), c => (char)c));

    public static byte[] Apply(byte[] seed, IEnumerable<Edit> edits, IReadOnlyList<byte[]> tokens) =>
        Apply<byte>(seed, edits, tokens, c => (byte)c);

    static T[] Apply<T>(T[] seed, IEnumerable<Edit> edits, IReadOnlyList<T[]> tokens, Func<int, T> unit)
    {
        var s = new List<T>(seed);
        foreach (var e in edits)
        {
            int at = s.Count == 0 ? 0 : e.Position % (s.Count + 1);
            int span = Math.Min(e.Length, s.Count - Math.Min(at, s.Count));
            switch (e.Kind)
            {
                case 0: // insert a token
                    s.InsertRange(at, tokens[e.Pick % tokens.Count]);
                    break;
                case 1: // delete a span
                    s.RemoveRange(Math.Min(at, s.Count), span);
                    break;
                case 2: // replace one unit with any value (control characters, high bytes, surrogates)
                    if (at < s.Count) s[at] = unit(e.Pick % 0x10000 is var v && typeof(T) == typeof(byte) ? v & 0xFF : v);
                    break;
                case 3: // duplicate a span in place
                    s.InsertRange(Math.Min(at, s.Count), s.GetRange(Math.Min(at, s.Count), span));
                    break;
                case 4: // truncate
                    if (e.Pick % 4 == 0) s.RemoveRange(Math.Min(at, s.Count), s.Count - Math.Min(at, s.Count));
                    break;
                default: // replace a span with a token
                    s.RemoveRange(Math.Min(at, s.Count), span);
                    s.InsertRange(Math.Min(at, s.Count), tokens[e.Pick % tokens.Count]);
                    break;
            }
        }
        return s.ToArray();
    }
}
