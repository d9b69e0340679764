using RaftPipeline.Text.Templates.Jinja;

namespace RaftPipeline.Text.Tests.Templates;

/// <summary>Syntax errors and unsupported constructs name the construct, the template and its line and column.</summary>
public class JinjaErrorTests
{
    static TemplateSyntaxException ParseError(string template) =>
        Assert.Throws<TemplateSyntaxException>(() => JinjaTemplate.Parse(template, "chat.jinja"));

    static TemplateRuntimeException RenderError(string template) =>
        Assert.Throws<TemplateRuntimeException>(() => Jinja.Render(template));

    [Fact]
    public void An_unclosed_for_names_the_missing_end_tag()
    {
        var e = ParseError("line one\n{% for m in messages %}\n{{ m }}");
        Assert.Equal("chat.jinja", e.SourceName);
        Assert.Contains("'endfor' or 'else'", e.Message);
        Assert.StartsWith("chat.jinja:3:", e.Message);
    }

    [Fact]
    public void A_stray_brace_points_at_itself()
    {
        var e = ParseError("ok\n  {{ messages[0].content }");
        Assert.Contains("unexpected '}'", e.Message);
        Assert.Equal((2, 26), (e.Line, e.Column));
    }

    [Theory]
    [InlineData("{% include 'x.jinja' %}", "'include' tag is not supported", 1, 4)]
    [InlineData("{% for x in y recursive %}{% endfor %}", "recursive for loops are not supported", 1, 15)]
    [InlineData("a\n{{ x | batch(2) }}", "the 'batch' filter is not supported", 2, 8)]
    [InlineData("{{ f(*args) }}", "*args and **kwargs", 1, 6)]
    public void Unsupported_constructs_are_named_with_their_position(string template, string expected, int line, int column)
    {
        var e = ParseError(template);
        Assert.Contains(expected, e.Message);
        Assert.Equal((line, column), (e.Line, e.Column));
    }

    [Theory]
    [InlineData("{% frobnicate %}", "Encountered unknown tag 'frobnicate'")]
    [InlineData("{% do x %}", "the 'do' tag is not supported")] // transformers does not enable the do extension either
    [InlineData("{{ x | nosuchfilter }}", "No filter named 'nosuchfilter'")]
    [InlineData("{{ x is nosuchtest }}", "No test named 'nosuchtest'")]
    [InlineData("{{ 'unterminated }}", "unexpected char")]
    [InlineData("{% break %}", "'break' outside of a for loop")]
    [InlineData("{% if x %}a{% endfor %}", "Encountered unknown tag 'endfor'")]
    [InlineData("{{ 1 + }}", "unexpected end of print statement")]
    [InlineData("{# never closed", "Missing end of comment tag")]
    public void Syntax_errors_are_reported(string template, string expected) =>
        Assert.Contains(expected, ParseError(template).Message);

    [Fact]
    public void Attribute_of_an_undefined_value_is_an_UndefinedError_at_its_position()
    {
        var e = RenderError("ok\n{{ missing.content }}");
        Assert.Equal("UndefinedError", e.ErrorType);
        Assert.Contains("'missing' is undefined", e.Message);
        Assert.Equal(2, e.Line);
    }

    [Theory]
    [InlineData("{{ 'a' + 1 }}", "TypeError", "can only concatenate str (not \"int\") to str")]
    [InlineData("{{ [1].append(2) }}", "SecurityError", "access to attribute 'append' of 'list' object is unsafe.")]
    [InlineData("{{ {'a': 1}.update({}) }}", "SecurityError", "access to attribute 'update' of 'dict' object is unsafe.")]
    [InlineData("{{ [1, 2] | select('odd') }}", "Unsupported", "printing a generator object")]
    [InlineData("{{ 1 // 0 }}", "ZeroDivisionError", "integer division or modulo by zero")]
    [InlineData("{{ [1, 2] | selectattr('x') | length }}", "TypeError", "object of type 'generator' has no len()")]
    [InlineData("{% set x = 1 %}{% set x.y = 2 %}", "TemplateRuntimeError", "cannot assign attribute on non-namespace object")]
    [InlineData("{{ 'x'.casefold() }}", "Unsupported", "str.casefold()")]
    [InlineData("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", "TypeError", "macro 'm' takes not more than 1 argument(s)")]
    public void Runtime_errors_keep_the_Python_error_type(string template, string type, string message)
    {
        var e = RenderError(template);
        Assert.Equal(type, e.ErrorType);
        Assert.Contains(message, e.PythonMessage);
    }

    [Fact]
    public void Raise_exception_carries_the_templates_message_and_position()
    {
        var e = Assert.Throws<TemplateRaisedException>(() => Jinja.Render("a\n  {{ raise_exception('Roles must alternate, got ' ~ 2) }}"));
        Assert.Equal("Roles must alternate, got 2", e.RaisedMessage);
        Assert.Equal((2, 6), (e.Line, e.Column));
    }
}
