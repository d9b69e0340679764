using RaftPipeline.Core.Spec.Stages;
using RaftPipeline.Stages.Format;

namespace RaftPipeline.Stages.Generate;

/// <summary>The system and user messages of one probe.</summary>
/// <param name="System">Null when the probe has no system message.</param>
public sealed record ProbeMessages(string? System, string User)
{
    /// <summary>
    /// The probe's own <c>system</c> wins over the stage's <c>system_prompt</c>; an empty string means none. The user
    /// message is <c>text</c> as is, else context + question through the user template, else (a question without
    /// context, like the notebook's general-knowledge probe) the question alone: a template with an empty context
    /// would show the model a shape it never saw in training.
    /// </summary>
    public static ProbeMessages For(ProbePrompt probe, GenerateParameters parameters)
    {
        string? system = probe.System ?? parameters.SystemPrompt;
        if (string.IsNullOrEmpty(system)) system = null;
        string user = probe.Text
            ?? (probe.Context is not null
                ? new UserTemplate(parameters.UserTemplate).Render(probe.Context, probe.Question!)
                : probe.Question!);
        return new ProbeMessages(system, user);
    }
}
