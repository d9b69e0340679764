using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Templates.Jinja;

namespace RaftPipeline.Stages.Format;

/// <summary>
/// Renders a <see cref="ChatExample"/> as the training text: the whole conversation (system when set, user, assistant)
/// through the model's chat template with <c>add_generation_prompt=False</c>, as the notebook's
/// <c>tokenizer.apply_chat_template(messages, tokenize=False)</c>.
/// </summary>
public sealed class ChatTextRenderer(ChatTemplate template, bool stripEmptyThink)
{
    /// <summary>
    /// What Qwen3's template writes before the last assistant turn when the message has no reasoning. The notebook
    /// removes it so the model is not trained to open every answer with an empty think block; only this exact text is
    /// removed, a think block with content stays.
    /// </summary>
    public const string EmptyThinkBlock = "<think>\n\n</think>\n\n";

    /// <summary>How many empty think blocks were removed so far (for the stage's log).</summary>
    public int ThinkBlocksStripped { get; private set; }

    public string Render(ChatExample example)
    {
        var messages = new List<ChatMessage>(3);
        if (example.System is not null) messages.Add(new ChatMessage("system", example.System));
        messages.Add(new ChatMessage("user", example.User));
        messages.Add(new ChatMessage("assistant", example.Assistant));
        string text;
        try
        {
            text = template.Render(ChatConversation.FromMessages(messages), addGenerationPrompt: false);
        }
        catch (TemplateException e)
        {
            // The template's own message names its file and line; add which example it failed on.
            throw new InvalidDataException($"{example.Source} row {example.SourceRow}: the chat template failed: {e.Message}", e);
        }
        if (!stripEmptyThink) return text;
        int count = Occurrences(text, EmptyThinkBlock);
        if (count == 0) return text;
        ThinkBlocksStripped += count;
        return text.Replace(EmptyThinkBlock, "", StringComparison.Ordinal);
    }

    private static int Occurrences(string text, string value)
    {
        int count = 0;
        for (int i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
            count++;
        return count;
    }
}
