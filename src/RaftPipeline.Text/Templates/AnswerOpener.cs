using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Text.Templates;

/// <summary>
/// The tokens that open an assistant answer in a model's chat template: what training masks up to when the spec names
/// no response template, so that one pipeline trains any family on its own template. The generation prompt (what
/// add_generation_prompt appends after a user turn), as ids in context, without trailing whitespace tokens:
/// <c>&lt;|im_start|&gt;assistant</c> (ChatML: Qwen, TRL's usual response_template),
/// <c>&lt;|start_header_id|&gt;assistant&lt;|end_header_id|&gt;</c> (Llama 3), <c>&lt;start_of_turn&gt;model</c> (Gemma),
/// <c>&lt;|assistant|&gt;</c> (Phi-3). A template without a generation prompt (Mistral's) opens the answer with what
/// follows the user's text: <c>[/INST]</c>.
/// </summary>
public static class AnswerOpener
{
    // Plain words no template rewrites (trim, capitalisation-free) and no tokenizer splits oddly around.
    const string Question = "raftquestion";
    const string Answer = "raftanswer";

    /// <summary>The opener's ids (as the rendered text encodes them) and its text.</summary>
    /// <exception cref="InvalidDataException">The template shows no answer opener (named in the message).</exception>
    public static (int[] Ids, string Text) Find(ChatTemplate template, HuggingFaceTokenizer tokenizer)
    {
        var user = ChatConversation.FromMessages([new ChatMessage("user", Question)]);
        var withPrompt = tokenizer.Encode(template.Render(user, addGenerationPrompt: true), addSpecialTokens: false);
        var without = tokenizer.Encode(template.Render(user, addGenerationPrompt: false), addSpecialTokens: false);
        // Compared as ids, not characters: "<|assistant|>" and "<|endoftext|>" share their first characters.
        int common = 0;
        while (common < withPrompt.Length && common < without.Length && withPrompt[common] == without[common]) common++;
        var ids = TrimWhitespace(tokenizer, withPrompt[common..]);
        if (ids.Length > 0) return (ids, tokenizer.Decode(ids));

        // No generation prompt: the text between the user's words and the answer's, trimmed.
        var full = template.Render(ChatConversation.FromMessages([new ChatMessage("user", Question), new ChatMessage("assistant", Answer)]));
        int from = full.IndexOf(Question, StringComparison.Ordinal);
        int to = from < 0 ? -1 : full.IndexOf(Answer, from + Question.Length, StringComparison.Ordinal);
        var between = to < 0 ? "" : full[(from + Question.Length)..to].Trim();
        if (between.Length == 0)
            throw new InvalidDataException(
                "the chat template shows no text that opens an answer (no generation prompt, and nothing between a user turn and the answer): set the train stage's response_template");
        var encoded = tokenizer.Encode(between, addSpecialTokens: false);
        return (encoded, between);
    }

    static int[] TrimWhitespace(HuggingFaceTokenizer tokenizer, int[] ids)
    {
        int end = ids.Length;
        while (end > 0 && !tokenizer.IsSpecial(ids[end - 1]) && string.IsNullOrWhiteSpace(tokenizer.Decode([ids[end - 1]]))) end--;
        return ids[..end];
    }
}
