using System.Text.Json;

namespace RaftPipeline.Text.Tokenization;

/// <summary>
/// The parts of tokenizer_config.json that change encoding: the named special tokens and whether BOS/EOS
/// are added. A token may be written as a string or as an AddedToken object (<c>{"content": ...}</c>).
/// </summary>
public sealed record TokenizerConfig(
    string? BosToken,
    string? EosToken,
    string? PadToken,
    string? UnkToken,
    bool? AddBosToken,
    bool? AddEosToken,
    bool SplitSpecialTokens,
    bool CleanUpTokenizationSpaces = false)
{
    public static readonly TokenizerConfig Empty = new(null, null, null, null, null, null, false);

    public static TokenizerConfig Read(Stream stream, string sourceName)
    {
        using var document = JsonCursor.Parse(stream, sourceName);
        var root = new JsonCursor(sourceName, "$", document.RootElement);
        root.ExpectKind(JsonValueKind.Object);
        return new TokenizerConfig(
            TokenText(root.Optional("bos_token")),
            TokenText(root.Optional("eos_token")),
            TokenText(root.Optional("pad_token")),
            TokenText(root.Optional("unk_token")),
            root.Optional("add_bos_token")?.Bool(),
            root.Optional("add_eos_token")?.Bool(),
            root.Optional("split_special_tokens")?.Bool() ?? false,
            // Absent: false, transformers' current default.
            root.Optional("clean_up_tokenization_spaces")?.Bool() ?? false);
    }

    static string? TokenText(JsonCursor? value) => value switch
    {
        null => null,
        { Kind: JsonValueKind.String } v => v.String(),
        { Kind: JsonValueKind.Object } v => v.Required("content").String(),
        { } v => throw v.Error($"expected a token string or an object with \"content\", found {v.Describe()}"),
    };
}
