using System.Diagnostics;
using System.Text;
using RaftPipeline.Core.Spec;

namespace RaftPipeline.Core.Tests.Spec;

/// <summary>YAML that does not parse: every error is a located spec error (never another exception), found fast.</summary>
public class YamlSyntaxTests
{
    const string File = "/specs/pipeline.yaml";

    static SpecError Single(string yaml)
    {
        var result = SpecLoader.LoadText(yaml, File);
        Assert.False(result.IsValid);
        return Assert.Single(result.Errors);
    }

    [Theory]
    [InlineData("name: x\nstages:\n  a: {kind: model\n  b: 1\n", 3, 6, '{')]
    [InlineData("name: x\nstages: [a, b\nseed: 1\n", 2, 9, '[')]
    [InlineData("name: [x\nstages: 1\n", 1, 7, '[')]
    [InlineData("name: x\nvars: {a: \"}\", b: 1\nstages: {}\n", 2, 7, '{')]
    public void An_unclosed_flow_collection_followed_by_more_keys_is_located_at_its_bracket(string yaml, int line, int column, char bracket)
    {
        var error = Single(yaml);
        Assert.Equal(new SourceLocation(File, line, column), error.Location);
        Assert.Equal($"YAML syntax: this '{bracket}' is never closed; expected ',' or '{(bracket == '{' ? '}' : ']')}' before the next key", error.Message);
    }

    [Theory]
    [InlineData("name: x\nstages: {a: [\n", 2, 9, '{')]
    [InlineData("name: x\nstages:\n  a: [1, 2\n", 3, 6, '[')]
    [InlineData("name: x\nstages:\n  a: {kind: model,\n\n# trailing comment\n", 3, 6, '{')]
    public void An_unclosed_flow_collection_at_the_end_of_the_file_is_located_at_its_bracket(string yaml, int line, int column, char bracket)
    {
        // The parser itself only notices at the end of the text; the error points at the bracket left open.
        var error = Single(yaml);
        Assert.Equal(new SourceLocation(File, line, column), error.Location);
        Assert.Equal($"YAML syntax: this '{bracket}' is never closed; expected ',' or '{(bracket == '{' ? '}' : ']')}' before the end of the file", error.Message);
    }

    [Fact]
    public void A_tab_used_for_indentation_on_line_42_is_reported_on_line_42()
    {
        var yaml = new StringBuilder("name: x\nstages:\n  data:\n    kind: load\n    params:\n");
        for (var i = 6; i <= 41; i++) yaml.Append($"      # comment line {i}\n");
        yaml.Append("\tkind: model\n");
        var error = Single(yaml.ToString());
        Assert.Equal(new SourceLocation(File, 42, 1), error.Location);
        Assert.Contains("tab", error.Message);
    }

    [Fact]
    public void Nested_aliases_fail_fast_at_the_alias_that_expands_too_far()
    {
        // The 600-byte "billion laughs": 9 levels of 9 aliases each would stand for 9^10 nodes.
        var lines = new List<string> { "name: x", "vars:", "  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]" };
        for (var i = 1; i < 10; i++)
            lines.Add($"  a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 9))}]");
        lines.Add("stages:\n  a:\n    kind: model\n    params: *a9");
        var yaml = string.Join("\n", lines) + "\n";
        Assert.InRange(yaml.Length, 500, 700);

        var clock = Stopwatch.StartNew();
        var error = Single(yaml);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Equal(new SourceLocation(File, 8, 12), error.Location);
        Assert.StartsWith("the alias *a4 stands for ", error.Message);
        Assert.Contains("past 100000 nodes", error.Message);
    }

    [Fact]
    public void A_few_aliases_of_a_reasonable_size_still_load()
    {
        var result = SpecLoader.LoadText("""
            name: x
            vars: { x: 1 }
            stages:
              base:
                kind: model
                params: &p { preset: tiny }
              other:
                kind: model
                params: *p
            """, File);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
    }

    [Fact]
    public void Nesting_deeper_than_a_spec_needs_is_refused_where_it_goes_too_deep()
    {
        var yaml = "name: x\nstages: " + new string('[', 5000) + new string(']', 5000) + "\n";
        var error = Single(yaml);
        Assert.Equal(2, error.Location.Line);
        Assert.Equal(8 + 100, error.Location.Column);
        Assert.StartsWith("nested more than 100 levels deep", error.Message);
    }
}
