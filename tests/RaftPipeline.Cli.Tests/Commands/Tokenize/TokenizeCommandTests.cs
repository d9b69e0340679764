using System.CommandLine;
using System.Text;
using RaftPipeline.Cli;
using RaftPipeline.Cli.Tests.Support;

namespace RaftPipeline.Cli.Tests.Commands.Tokenize;

public class TokenizeCommandTests
{
    static (int Exit, string Output, string Error) Raft(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = RaftCli.BuildRoot().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }


    static string Qwen3Folder => Path.Combine(RepoPaths.Root, "src", "RaftPipeline.Text", "Assets", "Qwen3");

    [Fact]
    public void Text_prints_ids_as_a_json_array()
    {
        // "Hello" 9707, "," 11, "Ġworld" 1879, "!" 0 in Qwen3's vocab; <|im_end|> is 151645.
        var (exit, output, error) = Raft("tokenize", "--text", "Hello, world!<|im_end|>");
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Equal("[9707,11,1879,0,151645]\n", output.Replace("\r\n", "\n"));
    }

    [Fact]
    public void Model_folder_gives_the_same_ids_as_the_embedded_tokenizer()
    {
        var embedded = Raft("tokenize", "--text", "그것도 몰라? 여기 있잖아.");
        var folder = Raft("tokenize", "--model", Qwen3Folder, "--text", "그것도 몰라? 여기 있잖아.");
        Assert.Equal(0, folder.Exit);
        Assert.Equal(embedded.Output, folder.Output);
        Assert.StartsWith("[", folder.Output);
    }

    [Theory]
    [InlineData("9707,11,1879,0")]
    [InlineData("[9707, 11, 1879, 0]")]
    public void Decode_accepts_both_id_forms(string ids)
    {
        var (exit, output, _) = Raft("tokenize", "--decode", ids);
        Assert.Equal(0, exit);
        Assert.Equal("Hello, world!", output.TrimEnd('\n', '\r'));
    }

    [Fact]
    public void Decode_can_skip_special_tokens()
    {
        Assert.Equal("<|im_start|>Hello", Raft("tokenize", "--decode", "151644,9707").Output.TrimEnd());
        Assert.Equal("Hello", Raft("tokenize", "--decode", "151644,9707", "--skip-special-tokens").Output.TrimEnd());
    }

    [Fact]
    public void File_prints_one_array_per_line()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "Hello, world!\n안녕\r\n\n!", new UTF8Encoding(false));
            var (exit, output, _) = Raft("tokenize", "--file", path);
            Assert.Equal(0, exit);
            var lines = output.Replace("\r\n", "\n").TrimEnd('\n').Split('\n');
            Assert.Equal(4, lines.Length);
            Assert.Equal("[9707,11,1879,0]", lines[0]);
            Assert.Equal(Raft("tokenize", "--text", "안녕").Output.Trim(), lines[1]);
            Assert.Equal("[]", lines[2]);
            Assert.Equal("[0]", lines[3]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(new[] { "tokenize" }, "exactly one of --text, --decode or --file")]
    [InlineData(new[] { "tokenize", "--text", "a", "--decode", "1" }, "exactly one of")]
    [InlineData(new[] { "tokenize", "--decode", "1,x,3" }, "--decode: 'x' is not a token id")]
    [InlineData(new[] { "tokenize", "--decode", "[1,2" }, "unbalanced brackets")]
    [InlineData(new[] { "tokenize", "--decode", "5,999999" }, "token id 999999 is not in the embedded Qwen3 tokenizer")]
    [InlineData(new[] { "tokenize", "--file", "/nonexistent/lines.txt" }, "/nonexistent/lines.txt: no such file")]
    [InlineData(new[] { "tokenize", "--model", "/nonexistent/model", "--text", "a" }, "/nonexistent/model/tokenizer.json")]
    public void Bad_input_is_one_clear_line_and_exit_code_2(string[] args, string expected)
    {
        var (exit, output, error) = Raft(args);
        Assert.Equal(RaftCli.ExitCodes.BadInput, exit);
        Assert.Equal("", output);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void An_unsupported_tokenizer_json_names_the_file_and_json_path()
    {
        var folder = Directory.CreateTempSubdirectory("raft-tokenize-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "tokenizer.json"), """{"model": {"type": "Unigram", "vocab": []}}""");
            var (exit, _, error) = Raft("tokenize", "--model", folder, "--text", "a");
            Assert.Equal(RaftCli.ExitCodes.BadInput, exit);
            Assert.Contains($"{Path.Combine(folder, "tokenizer.json")}: $.model.type: model type \"Unigram\" is not supported", error);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_file_that_is_not_utf8_names_the_byte()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [(byte)'o', (byte)'k', 0xB0, 0xA1]); // "가" in cp949, not UTF-8
            var (exit, _, error) = Raft("tokenize", "--file", path);
            Assert.Equal(RaftCli.ExitCodes.BadInput, exit);
            Assert.Contains("not valid UTF-8 at byte", error);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
