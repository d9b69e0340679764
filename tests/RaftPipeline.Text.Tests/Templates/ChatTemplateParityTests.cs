using System.Text;
using System.Text.Json;
using RaftPipeline.Text.Templates;
using RaftPipeline.Text.Templates.Jinja;

namespace RaftPipeline.Text.Tests.Templates;

/// <summary>
/// Byte-for-byte parity with transformers' apply_chat_template(tokenize=False) on every case of
/// Fixtures/chat_templates/expected.jsonl, which Fixtures/chat_templates/generate.py writes on a machine with
/// transformers installed. raise_exception cases must fail with the same message; other template errors must fail too.
/// </summary>
public class ChatTemplateParityTests
{
    static readonly string Fixtures = RepoPaths.ChatTemplateFixtures;

    [Fact]
    public void Every_case_renders_exactly_as_transformers()
    {
        var expectedPath = Path.Combine(Fixtures, "expected.jsonl");
        Assert.True(File.Exists(expectedPath),
            $"missing {expectedPath}: run `python {Path.Combine("tests", "RaftPipeline.Text.Tests", "Fixtures", "chat_templates", "generate.py")} OUTDIR` " +
            "from the repository root where transformers is installed, and put OUTDIR/expected.jsonl there.");

        var models = new Dictionary<string, ChatTemplate>();
        var failures = new List<string>();
        var cases = 0;
        var errorCases = 0;
        foreach (var line in File.ReadLines(expectedPath))
        {
            if (line.Length == 0) continue;
            cases++;
            using var doc = JsonDocument.Parse(line);
            var c = doc.RootElement;
            var id = c.GetProperty("id").GetString()!;
            var modelName = c.GetProperty("model").GetString()!;
            if (!models.TryGetValue(modelName, out var model))
                models[modelName] = model = ChatTemplate.FromModelFolder(
                    modelName == "qwen3" ? RepoPaths.Qwen3Assets : Path.Combine(Fixtures, "models", modelName));
            var templateFile = c.GetProperty("template").GetString();
            if (templateFile is not null)
            {
                var templatePath = Path.Combine(Fixtures, "templates", templateFile);
                model = model.WithTemplate(File.ReadAllText(templatePath), templatePath);
            }
            var conversation = ChatConversation.Load(Path.Combine(Fixtures, "conversations", c.GetProperty("conversation").GetString()!));
            var extra = c.GetProperty("kwargs").EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
            var agp = c.GetProperty("add_generation_prompt").GetBoolean();

            string? actual = null;
            Exception? error = null;
            try
            {
                actual = model.Render(conversation, agp, extra);
            }
            catch (Exception ex) when (ex is TemplateException or ChatInputException)
            {
                error = ex;
            }

            if (c.TryGetProperty("output", out var output))
            {
                var expected = output.GetString()!;
                if (error is not null) failures.Add($"{id}\n  expected output {Show(expected)}\n  but failed: {error.Message}");
                else if (actual != expected) failures.Add($"{id}\n  expected {Show(expected)}\n  actual   {Show(actual!)}\n  {FirstDifference(expected, actual!)}");
                continue;
            }
            errorCases++;
            var errorType = c.GetProperty("error_type").GetString();
            var message = c.GetProperty("error").GetString();
            if (error is null) failures.Add($"{id}\n  expected {errorType}: {message}\n  but rendered {Show(actual!)}");
            else if (errorType == "TemplateError")
            {
                if (error is not TemplateRaisedException raised || raised.RaisedMessage != message)
                    failures.Add($"{id}\n  expected raise_exception({Show(message!)})\n  but got {error.Message}");
            }
            else if (error is ChatInputException input)
            {
                // transformers' own checks before rendering (e.g. the empty conversation ValueError).
                if (input.Detail != message) failures.Add($"{id}\n  expected {errorType}: {message}\n  but got {error.Message}");
            }
            else if (error is TemplateRuntimeException runtime && runtime.ErrorType != errorType)
                failures.Add($"{id}\n  expected {errorType}: {message}\n  but got {error.Message}");
            else if (error is not TemplateRuntimeException)
                failures.Add($"{id}\n  expected {errorType}: {message}\n  but got {error.Message}");
        }

        Assert.True(cases > 0, "expected.jsonl has no cases");
        Assert.True(failures.Count == 0,
            $"{failures.Count} of {cases} cases ({errorCases} expected errors) differ from transformers:\n\n" + string.Join("\n\n", failures.Take(15)));
    }

    static string Show(string s) => JsonSerializer.Serialize(s, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    static string FirstDifference(string expected, string actual)
    {
        var i = 0;
        while (i < expected.Length && i < actual.Length && expected[i] == actual[i]) i++;
        var from = Math.Max(0, i - 20);
        return $"first difference at char {i}: expected …{Show(expected[from..Math.Min(expected.Length, i + 20)])} actual …{Show(actual[from..Math.Min(actual.Length, i + 20)])}";
    }
}
