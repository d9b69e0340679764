using RaftPipeline.Export.Gguf;
using RaftPipeline.Export.Tests.Support;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Tokenization;
using Xunit.Abstractions;

namespace RaftPipeline.Export.Tests;

/// <summary>The tokenizer and chat template in the GGUF, as llama.cpp uses them: its tokenizer (with the pre-tokenizer
/// named in tokenizer.ggml.pre) gives our ids, and llama_chat_apply_template on tokenizer.chat_template renders the
/// conversation as our Jinja renders the folder's template.</summary>
public sealed class ChatTemplateTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("preset", "qwen2")]
    [InlineData("qwen3", "qwen2")]
    [InlineData("qwen2", "qwen2")]
    [InlineData("llama", "llama-bpe")]
    public void Gguf_tokenizer_and_template_render_as_ours(string family, string pre)
    {
        var folder = ModelFolders.Folder(family);
        var result = GgufExport.Run(new GgufExportRequest(folder, ModelFolders.NewTempDirectory("tpl"), GgufFileType.Q8_0));
        using var llama = new LlamaCpp(result.ModelPath);
        Assert.Equal(pre, llama.Metadata["tokenizer.ggml.pre"]);

        var ours = ChatTemplate.FromModelFolder(folder)
            .Render(ChatConversation.FromMessages(Prompts.Conversation.Select(m => new ChatMessage(m.Role, m.Content))), addGenerationPrompt: true);
        var theirs = llama.ApplyChatTemplate(Prompts.Conversation, addAssistant: true);
        output.WriteLine($"ours:      {ours.Replace("\n", "\\n")}");
        output.WriteLine($"llama.cpp: {theirs.Replace("\n", "\\n")}");
        // llama.cpp's Llama 3 format leaves BOS to the tokenizer (add_bos_token), where the Jinja template writes it.
        var bos = family == "llama" ? "<|begin_of_text|>" : "";
        Assert.Equal(ours, bos + theirs);

        var tokenizer = HuggingFaceTokenizer.FromDirectory(folder);
        foreach (var text in new[] { ours, "In 2024, 12345 tokens were counted; it's 3.14159.\n\n  indented", "안녕하세요! 오늘은 날씨가 정말 좋네요." })
            Assert.Equal(tokenizer.Encode(text, addSpecialTokens: false), llama.Tokenize(text, addBos: false, special: true));
        Assert.Equal(tokenizer.Encode("hello world", addSpecialTokens: true), llama.Tokenize("hello world", addBos: true, special: true));

        var modelfile = File.ReadAllText(result.ModelfilePath);
        output.WriteLine(modelfile);
        Assert.Contains(family == "llama" ? "PARAMETER stop \"<|eot_id|>\"" : "PARAMETER stop \"<|im_end|>\"", modelfile);
        Assert.Contains(family == "llama" ? "<|start_header_id|>{{ .Role }}<|end_header_id|>" : "<|im_start|>{{ .Role }}", modelfile);
        if (family != "preset") // the preset's generation_config.json sets ids only; the others, sampling defaults
            foreach (var line in new[] { "PARAMETER temperature 0.7", "PARAMETER top_p 0.8", "PARAMETER top_k 20", "PARAMETER repeat_penalty 1.05",
                         family == "llama" ? "PARAMETER stop \"<|end_of_text|>\"" : "PARAMETER stop \"<|endoftext|>\"" })
                Assert.Contains(line + "\n", modelfile);
    }
}
