using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Export.Tests.Support;

public static class Prompts
{
    public static readonly (string Role, string Content)[] Conversation =
    [
        ("system", "You are a helpful assistant."),
        ("user", "What is the capital of Korea? 12345 tokens, 한국어."),
    ];

    /// <summary>The conversation rendered by the folder's chat template and encoded by its tokenizer (ours).</summary>
    public static int[] ChatIds(string folder)
    {
        var template = ChatTemplate.FromModelFolder(folder);
        var text = template.Render(ChatConversation.FromMessages(Conversation.Select(m => new ChatMessage(m.Role, m.Content))), addGenerationPrompt: true);
        var tokenizer = HuggingFaceTokenizer.FromDirectory(folder);
        // The template writes BOS itself where the family has one (Llama 3): no special tokens added on top.
        return tokenizer.Encode(text, addSpecialTokens: false);
    }
}
