using System.Text.Json.Nodes;
using RaftPipeline.Core.Engine;
using RaftPipeline.Core.TestHost;

namespace RaftPipeline.Core.Tests.Engine;

public class CanonicalJsonTests
{
    [Fact]
    public void Keys_are_sorted_by_ordinal_at_every_level_and_whitespace_is_dropped()
    {
        var node = JsonNode.Parse("""{ "b": 1, "a": { "z": [ 3, 2 ], "B": true }, "_": null }""");
        Assert.Equal("""{"_":null,"a":{"B":true,"z":[3,2]},"b":1}""", CanonicalJson.Write(node));
    }

    [Theory]
    [InlineData("1e-4", "0.0001")]
    [InlineData("1E-4", "0.0001")]
    [InlineData("0.00010", "0.0001")]
    [InlineData("2.0", "2")]
    [InlineData("2e0", "2")]
    [InlineData("1e-8", "1e-08")]
    [InlineData("1E+21", "1e21")]
    [InlineData("-0.0", "0")]
    [InlineData("007", "7")]
    [InlineData("9007199254740993", "9007199254740993")]
    public void Numbers_have_one_spelling(string raw, string canonical) =>
        Assert.Equal(canonical, CanonicalJson.CanonicalNumber(raw));

    [Fact]
    public void Strings_escape_only_what_json_requires()
    {
        var node = new JsonObject { ["s"] = "반말 \"q\" \\ \n\t\u0001 <&>" };
        Assert.Equal("{\"s\":\"반말 \\\"q\\\" \\\\ \\n\\t\\u0001 <&>\"}", CanonicalJson.Write(node));
    }

    [Fact]
    public void Parameters_are_snake_case_with_enums_by_name_and_nulls_left_out()
    {
        var text = CanonicalParameters.ToCanonicalText(new EchoParameters { Text = "x", Rate = 0.0001, Steps = 3, Mode = EchoMode.UpperCase });
        Assert.Equal("""{"mode":"upper_case","rate":0.0001,"steps":3,"text":"x"}""", text);
    }

    [Fact]
    public void Equal_doubles_written_differently_give_equal_parameters()
    {
        var a = CanonicalParameters.ToCanonicalText(new EchoParameters { Rate = double.Parse("1e-4", System.Globalization.CultureInfo.InvariantCulture) });
        var b = CanonicalParameters.ToCanonicalText(new EchoParameters { Rate = double.Parse("0.0001", System.Globalization.CultureInfo.InvariantCulture) });
        Assert.Equal(a, b);
    }
}
