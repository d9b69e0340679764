using RaftPipeline.Text.Templates.Jinja;

namespace RaftPipeline.Text.Tests.Templates;

/// <summary>Test helper: parse and render a template with a few variables.</summary>
static class Jinja
{
    public static string Render(string template, object? variables = null)
    {
        var vars = new Dictionary<string, object?>();
        if (variables is not null)
            foreach (var p in variables.GetType().GetProperties()) vars[p.Name] = p.GetValue(variables);
        return JinjaTemplate.Parse(template, "test.jinja").Render(vars);
    }
}
