using System.Globalization;
using System.Text;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Cli.Commands.Tokenize;

/// <summary>
/// The behaviour of `raft tokenize`: ids as a JSON array on stdout (one array per line for --file), or the
/// decoded text. Bad input (a missing or unsupported tokenizer, ids that are not ids, a file that is not
/// UTF-8) is one line on stderr naming what and where, and exit code 2.
/// </summary>
public sealed class TokenizeCommand(TextWriter output, TextWriter error)
{
    public int Run(TokenizeRequest request)
    {
        var modes = new[] { request.Text, request.Decode, request.File }.Count(m => m is not null);
        if (modes != 1)
            return BadInput("give exactly one of --text, --decode or --file");
        if (request.SkipSpecialTokens && request.Decode is null)
            return BadInput("--skip-special-tokens applies to --decode only");

        int[]? ids = null;
        if (request.Decode is not null && !TryParseIds(request.Decode, out ids, out var problem))
            return BadInput($"--decode: {problem}");

        HuggingFaceTokenizer tokenizer;
        try
        {
            tokenizer = request.Model is null
                ? HuggingFaceTokenizer.FromEmbeddedQwen3()
                : HuggingFaceTokenizer.FromDirectory(request.Model);
        }
        catch (TokenizerFormatException e)
        {
            return BadInput(e.Message);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return BadInput(e.Message);
        }

        if (ids is not null)
        {
            // The library drops unknown ids as Hugging Face does (model output may hold them); ids a person typed
            // are checked, since a typo would otherwise vanish silently.
            if (ids.FirstOrDefault(id => tokenizer.IdToToken(id) is null, -1) is var unknown and >= 0)
                return BadInput($"--decode: token id {unknown} is not in {TokenizerName(request)}");
            output.WriteLine(tokenizer.Decode(ids, request.SkipSpecialTokens));
            return RaftCli.ExitCodes.Ok;
        }

        if (request.Text is not null)
        {
            if (!TryEncode(tokenizer, request.Text, request.AddSpecialTokens, out var json, out var encodeProblem))
                return BadInput($"--text: {encodeProblem}");
            output.WriteLine(json);
            return RaftCli.ExitCodes.Ok;
        }

        return EncodeFile(tokenizer, request.File!, request.AddSpecialTokens);
    }

    int EncodeFile(HuggingFaceTokenizer tokenizer, string path, bool addSpecialTokens)
    {
        if (!File.Exists(path)) return BadInput($"--file: {path}: no such file");
        string content;
        try
        {
            content = File.ReadAllText(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
        }
        catch (DecoderFallbackException e)
        {
            return BadInput($"--file: {path}: not valid UTF-8 at byte {e.Index} (the file must be UTF-8)");
        }
        // One output line per input line: \n, \r\n and a lone \r all end a line, as File.ReadLines has it.
        using var reader = new StringReader(content);
        var lineNumber = 0;
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (!TryEncode(tokenizer, line, addSpecialTokens, out var json, out var problem))
                return BadInput($"--file: {path}:{lineNumber}: {problem}");
            output.WriteLine(json);
        }
        return RaftCli.ExitCodes.Ok;
    }

    static bool TryEncode(HuggingFaceTokenizer tokenizer, string text, bool addSpecialTokens, out string json, out string problem)
    {
        try
        {
            json = "[" + string.Join(",", tokenizer.Encode(text, addSpecialTokens)) + "]";
            problem = "";
            return true;
        }
        catch (ArgumentException e) // an unpaired surrogate: the text is not Unicode
        {
            json = "";
            problem = e.Message;
            return false;
        }
    }

    /// <summary>Accepts "1,2,3", "1 2 3" and "[1, 2, 3]".</summary>
    internal static bool TryParseIds(string text, out int[] ids, out string problem)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith('[') != trimmed.EndsWith(']'))
        {
            (ids, problem) = ([], $"unbalanced brackets in '{text}' (expected e.g. 1,2,3 or [1,2,3])");
            return false;
        }
        if (trimmed.StartsWith('[')) trimmed = trimmed[1..^1];
        var parts = trimmed.Split([',', ' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
        var parsed = new List<int>(parts.Length);
        foreach (var part in parts)
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                (ids, problem) = ([], $"'{part}' is not a token id (expected non-negative integers, e.g. 1,2,3 or [1,2,3])");
                return false;
            }
            parsed.Add(id);
        }
        (ids, problem) = ([.. parsed], "");
        return true;
    }

    static string TokenizerName(TokenizeRequest request) =>
        request.Model is null ? "the embedded Qwen3 tokenizer" : $"the tokenizer of {request.Model}";

    int BadInput(string message)
    {
        error.WriteLine($"raft tokenize: {message}");
        return RaftCli.ExitCodes.BadInput;
    }
}
