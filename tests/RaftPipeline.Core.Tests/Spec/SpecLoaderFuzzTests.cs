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
        Mutations.Of(seeds, Tokens).Fuzz(yaml =>
        {
            var result = SpecLoader.LoadText(yaml, path);
            if (result.IsValid) return;
            foreach (var e in result.Errors)
            {
                Assert.Equal(path, e.Location.File);
                Assert.True(e.Location.Line >= 1 && e.Location.Column >= 1, $"unlocated: {e}");
                var text = e.ToString();
                if (text.Length >= 2000) Assert.Fail($"{text.Length} characters: {text[..200]}…");
            }
        }, print: y => y);
    }

    [Fact]
    public void Found_by_fuzzing_an_empty_key_before_a_repeated_one_is_a_located_error_not_an_ArgumentException()
    {
        const string yaml = "name: x\nstages:\n : x\nstages:\n  a: &s\n    kind: model\n    params: { preset: tiny }\n  b: *s\n";
        var error = Assert.Single(SpecLoader.LoadText(yaml, "/specs/p.yaml").Errors);
        Assert.Equal(new SourceLocation("/specs/p.yaml", 3, 1), error.Location); // the empty key
        Assert.StartsWith("YAML syntax: cannot make sense of this line", error.Message);
    }

    [Fact]
    public void Found_by_fuzzing_an_alias_inside_its_own_anchor_is_a_located_error_not_a_recursion_exception()
    {
        const string yaml = "name: x\nstages:\n  a: &s\n    kind: model\n    parb: *s\n";
        var error = Assert.Single(SpecLoader.LoadText(yaml, "/specs/p.yaml").Errors);
        Assert.Equal(new SourceLocation("/specs/p.yaml", 5, 11), error.Location);
        Assert.Equal("the alias *s is inside the node &s it refers to (a cycle); expected an alias of a finished node", error.Message);
    }
}
