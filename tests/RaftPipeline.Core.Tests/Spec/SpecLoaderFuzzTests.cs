using CsCheck;
using RaftPipeline.Core.Spec;
using RaftPipeline.Fuzzing;

namespace RaftPipeline.Core.Tests.Spec;

/// <summary>Every text either loads or gives located spec errors; never another exception (see <see cref="Mutations"/> for the budget).</summary>
public class SpecLoaderFuzzTests
{
    static string Repo([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    static readonly string[] Tokens =
    [
        "{", "}", "[", "]", ",", ":", ": ", "\n", "\n  ", "\t", "- ", "&a ", "*a", "&b [*a, *a, *a]", "!!str ", "!!binary ", "? ",
        "'", "\"", "#", "|\n", ">-\n", "${vars.", "${vars.x}", "}", "---\n", "...\n", "~", "null", "1e999", "0x7f", "-.inf",
        "\u00a0", "\ufeff", "\u2028", "\ud800", "kind: ", "inputs: ", "params: ", "stages:\n", "vars:\n  x: 1\n",
    ];

    [Fact]
    public void Mutated_specs_load_or_fail_with_located_spec_errors()
    {
        var path = Path.Combine(Repo(), "pipelines", "fuzz.yaml"); // beside the real specs, so their relative inputs resolve
        var seeds = new[] { "quickstart.yaml", "rude-raft.yaml" }.Select(f => File.ReadAllText(Path.Combine(Repo(), "pipelines", f)))
            .Append("name: x\nvars: { m: tiny }\nstages:\n  base: { kind: model, params: { preset: \"${vars.m}\" } }\n")
            .Append("name: x\nstages:\n  a: &s\n    kind: model\n    params: { preset: tiny }\n  b: *s\n")
            .ToList();
        Mutations.Of(seeds, Tokens).Sample(yaml =>
        {
            var result = SpecLoader.LoadText(yaml, path);
            if (result.IsValid) return;
            foreach (var e in result.Errors)
            {
                Assert.Equal(path, e.Location.File);
                Assert.True(e.Location.Line >= 1 && e.Location.Column >= 1, $"unlocated: {e}");
                Assert.True(e.ToString().Length < 2000, $"{e.ToString().Length} characters: {e.ToString()[..200]}…");
            }
        }, time: Mutations.Seconds, print: y => y);
    }
}
