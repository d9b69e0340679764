using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Text.Tests.Templates;

/// <summary>
/// The answer opener the train stage masks up to when the spec names no response_template, for each family's template:
/// the Qwen3 template (the notebook's "&lt;|im_start|&gt;assistant", so Qwen pipelines train as before) and the tiny family
/// folders of tests/RaftPipeline.Modeling.Tests/Fixtures/families (our Llama 3, Gemma, Phi-3 and Mistral templates).
/// </summary>
public class AnswerOpenerTests
{
    static string FamilyModel(string name) =>
        Path.Combine(RepoPaths.Root, "tests", "RaftPipeline.Modeling.Tests", "Fixtures", "families", name, "model");

    [Fact]
    public void Qwen3s_opener_is_the_notebooks_response_template()
    {
        var tokenizer = HuggingFaceTokenizer.FromEmbeddedQwen3();
        var (ids, text) = AnswerOpener.Find(ChatTemplate.FromEmbeddedQwen3(), tokenizer);
        Assert.Equal("<|im_start|>assistant", text);
        Assert.Equal(tokenizer.Encode("<|im_start|>assistant", addSpecialTokens: false), ids);
    }

    [Theory]
    [InlineData("llama3", "<|start_header_id|>assistant<|end_header_id|>")]
    [InlineData("gemma2", "<start_of_turn>model")]
    [InlineData("phi3", "<|assistant|>")] // its template ends a prompt without one with eos: compared as tokens, not characters
    [InlineData("mistral", "[/INST]")]    // no generation prompt: what follows the user's text
    public void Each_familys_opener_comes_from_its_own_template(string family, string expected)
    {
        var dir = FamilyModel(family);
        var tokenizer = HuggingFaceTokenizer.FromDirectory(dir);
        var (ids, text) = AnswerOpener.Find(ChatTemplate.FromModelFolder(dir), tokenizer);
        Assert.Equal(expected, text);
        Assert.True(tokenizer.IsSpecial(ids[0]), $"{family}: the opener starts with a special token ({ids[0]})");
        // Found in a rendered training text: the answer follows it.
        var conversation = ChatConversation.FromMessages([new ChatMessage("user", "Hello there"), new ChatMessage("assistant", "Fine answer")]);
        var row = tokenizer.Encode(ChatTemplate.FromModelFolder(dir).Render(conversation), addSpecialTokens: false);
        int at = Enumerable.Range(0, row.Length - ids.Length + 1).Last(i => row.AsSpan(i, ids.Length).SequenceEqual(ids));
        Assert.StartsWith("Fine answer", tokenizer.Decode(row[(at + ids.Length)..]).TrimStart());
    }

    [Fact]
    public void A_template_that_marks_no_answer_is_refused_with_what_to_set()
    {
        var template = ChatTemplate.FromText("{% for m in messages %}{{ m['content'] }}{% endfor %}", "plain.jinja");
        var e = Assert.Throws<InvalidDataException>(() => AnswerOpener.Find(template, HuggingFaceTokenizer.FromEmbeddedQwen3()));
        Assert.Contains("response_template", e.Message);
    }
}
