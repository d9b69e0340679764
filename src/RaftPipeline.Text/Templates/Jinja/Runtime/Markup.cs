namespace RaftPipeline.Text.Templates.Jinja.Runtime;

/// <summary>markupsafe.Markup, made by the safe/escape filters: a string that escapes plain strings added to it.</summary>
public sealed class Markup(string text)
{
    public string Text { get; } = text;

    /// <summary>markupsafe.escape: &amp; &lt; &gt; " ' become entities.</summary>
    public static string Escape(string s) =>
        s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;");
}
