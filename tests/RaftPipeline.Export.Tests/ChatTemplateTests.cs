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
    [InlineData("mistral", "llama-bpe")]
    [InlineData("phi3", "qwen2")]
    [InlineData("gemma2", "qwen2")]
    [InlineData("gemma3_text", "qwen2")]
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
        // llama.cpp's Llama 3, Gemma and Mistral formats leave BOS to the tokenizer (add_bos_token), where these Jinja
        // templates write it.
        var bos = family switch { "llama" => "<|begin_of_text|>", "gemma2" or "gemma3_text" => "<bos>", "mistral" => "<s>", _ => "" };
        Assert.Equal(ours, bos + theirs);

        var tokenizer = HuggingFaceTokenizer.FromDirectory(folder);
        foreach (var text in new[] { ours, "In 2024, 12345 tokens were counted; it's 3.14159.\n\n  indented", "안녕하세요! 오늘은 날씨가 정말 좋네요." })
            Assert.Equal(tokenizer.Encode(text, addSpecialTokens: false), llama.Tokenize(text, addBos: false, special: true));
        Assert.Equal(tokenizer.Encode("hello world", addSpecialTokens: true), llama.Tokenize("hello world", addBos: true, special: true));

        var modelfile = File.ReadAllText(result.ModelfilePath);
        output.WriteLine(modelfile);
        var (stop, marker) = family switch
        {
            "llama" => ("<|eot_id|>", "<|start_header_id|>{{ .Role }}<|end_header_id|>"),
            "gemma2" or "gemma3_text" => ("<end_of_turn>", "<start_of_turn>{{ if eq .Role \"assistant\" }}model"),
            "phi3" => ("<|end|>", "<|{{ .Role }}|>"),
            "mistral" => ("</s>", "# No TEMPLATE"), // Mistral's [INST] formats are not translated; Ollama reads the GGUF's
            _ => ("<|im_end|>", "<|im_start|>{{ .Role }}"),
        };
        Assert.Contains($"PARAMETER stop \"{stop}\"", modelfile);
        Assert.Contains(marker, modelfile);
        if (!FixtureFamilies.IsFixture(family) && family != "preset") // the preset's generation_config.json sets ids only; the others, sampling defaults
            foreach (var line in new[] { "PARAMETER temperature 0.7", "PARAMETER top_p 0.8", "PARAMETER top_k 20", "PARAMETER repeat_penalty 1.05",
                         family == "llama" ? "PARAMETER stop \"<|end_of_text|>\"" : "PARAMETER stop \"<|endoftext|>\"" })
                Assert.Contains(line + "\n", modelfile);
    }
}
