using System.CommandLine;

namespace RaftPipeline.Cli.Commands.Tokenize;

/// <summary>`dotnet raft tokenize`: arguments and wiring; the behaviour is <see cref="TokenizeCommand"/>.</summary>
public sealed class TokenizeVerb : ICliVerb
{
    public Command Create()
    {
        var model = new Option<string?>("--model")
        {
            Description = "Model folder holding tokenizer.json (and tokenizer_config.json). Default: the embedded Qwen3 tokenizer.",
        };
        var text = new Option<string?>("--text") { Description = "Text to encode; prints its token ids as a JSON array." };
        var decode = new Option<string?>("--decode") { Description = "Token ids to decode, as 1,2,3 or [1,2,3]; prints the text." };
        var file = new Option<string?>("--file") { Description = "UTF-8 text file: each line is encoded to one JSON array per output line." };
        var noSpecial = new Option<bool>("--no-special-tokens")
        {
            Description = "Encode without the BOS/EOS the tokenizer adds (add_special_tokens=False); none for Qwen3.",
        };
        var skipSpecial = new Option<bool>("--skip-special-tokens")
        {
            Description = "With --decode: drop special tokens such as <|im_end|> (skip_special_tokens=True).",
        };

        var command = new Command("tokenize", "Encode text to token ids or decode ids to text with a model's Hugging Face tokenizer.")
        {
            model, text, decode, file, noSpecial, skipSpecial,
        };
        command.SetAction(parse => new TokenizeCommand(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error).Run(
            new TokenizeRequest(
                parse.GetValue(model),
                parse.GetValue(text),
                parse.GetValue(decode),
                parse.GetValue(file),
                AddSpecialTokens: !parse.GetValue(noSpecial),
                SkipSpecialTokens: parse.GetValue(skipSpecial))));
        return command;
    }
}
