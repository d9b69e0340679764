using RaftPipeline.Text.Templates;

namespace RaftPipeline.Stages.Generate;

/// <summary>
/// Turns (system, user) into the prompt text a model continues, with the model's own chat template, as
/// <c>apply_chat_template(messages, add_generation_prompt=True, tokenize=False)</c> does, and gives the reference
/// continuation of an answer (what training scored after that prompt).
/// <para>
/// No <c>enable_thinking</c> variable is passed: Qwen3's hybrid template then opens the assistant turn with a bare
/// <c>&lt;|im_start|&gt;assistant\n</c>, which is exactly the prefix of the training texts once the format stage strips
/// the empty think block (its default), and instruct-only templates (Qwen3-2507) ignore the variable anyway.
/// </para>
/// </summary>
public sealed class ChatPromptRenderer(ChatTemplate template)
{
    /// <summary>The block Qwen3's template writes before the last assistant answer; the format stage strips it.</summary>
    public const string EmptyThinkBlock = "<think>\n\n</think>\n\n";

    public ChatTemplate Template { get; } = template;

    /// <summary>The conversation so far (system when not null or empty, then user), ending with the assistant's opening.</summary>
    public string Prompt(string? system, string user) =>
        Template.Render(Conversation(system, user, null), addGenerationPrompt: true);

    /// <summary>
    /// What follows <see cref="Prompt"/> in the fully rendered conversation with <paramref name="answer"/> as the
    /// assistant turn: the answer and the end-of-turn text the template appends (<c>&lt;|im_end|&gt;\n</c>), without the
    /// empty think block, as the training texts have it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The template renders the answered conversation so that it does not start with the prompt.</exception>
    public string ReferenceContinuation(string? system, string user, string answer)
    {
        string prompt = Prompt(system, user);
        string full = Template.Render(Conversation(system, user, answer), addGenerationPrompt: false);
        if (!full.StartsWith(prompt, StringComparison.Ordinal))
            throw new InvalidOperationException(
                "the chat template renders the answered conversation without the generation prompt as its prefix, so the " +
                $"reference answer cannot be scored after the prompt the model is given.\nprompt: {Shorten(prompt)}\nrendered: {Shorten(full)}");
        string continuation = full[prompt.Length..];
        return continuation.StartsWith(EmptyThinkBlock, StringComparison.Ordinal) ? continuation[EmptyThinkBlock.Length..] : continuation;
    }

    /// <summary>An answer as a person reads it: without a leading empty think block (a model trained without stripping it writes one).</summary>
    public static string WithoutEmptyThink(string answer)
    {
        string trimmed = answer.TrimStart();
        return trimmed.StartsWith(EmptyThinkBlock.TrimEnd('\n'), StringComparison.Ordinal)
            ? trimmed[EmptyThinkBlock.TrimEnd('\n').Length..].TrimStart()
            : answer;
    }

    static ChatConversation Conversation(string? system, string user, string? answer)
    {
        var messages = new List<ChatMessage>();
        if (!string.IsNullOrEmpty(system)) messages.Add(new ChatMessage("system", system));
        messages.Add(new ChatMessage("user", user));
        if (answer is not null) messages.Add(new ChatMessage("assistant", answer));
        return ChatConversation.FromMessages(messages);
    }

    static string Shorten(string text) =>
        (text.Length <= 300 ? text : "…" + text[^300..]).Replace("\n", "\\n");
}
