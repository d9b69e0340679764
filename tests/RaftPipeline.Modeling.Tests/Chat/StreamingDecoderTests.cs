using RaftPipeline.Modeling.Chat;
using RaftPipeline.Text.Tokenization;

namespace RaftPipeline.Modeling.Tests.Chat;

public sealed class StreamingDecoderTests
{
    static readonly HuggingFaceTokenizer Qwen3 = HuggingFaceTokenizer.FromEmbeddedQwen3();

    /// <summary>GPT-2's bytes_to_unicode: the vocabulary spelling of a single byte.</summary>
    static string ByteToken(byte b)
    {
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range(0xA1, 0xAC - 0xA1 + 1)).Concat(Enumerable.Range(0xAE, 0xFF - 0xAE + 1)).ToHashSet();
        if (printable.Contains(b)) return ((char)b).ToString();
        var n = 0;
        for (var i = 0; i < b; i++) if (!printable.Contains(i)) n++;
        return ((char)(256 + n)).ToString();
    }

    static int ByteId(byte b) => Qwen3.TokenToId(ByteToken(b)) ?? throw new InvalidOperationException($"no byte token for {b:X2}");

    [Fact]
    public void A_korean_syllable_split_over_byte_tokens_is_released_whole()
    {
        // "안녕" is EC 95 88 EB 85 95 in UTF-8: six single-byte tokens, two characters.
        var decoder = new StreamingDecoder(Qwen3);
        var pieces = "안녕"u8.ToArray().Select(b => decoder.Push(ByteId(b))).ToList();
        Assert.Equal(["", "", "안", "", "", "녕"], pieces);
        Assert.Equal("", decoder.Flush());
    }

    [Fact]
    public void Pieces_concatenate_to_the_full_decode_with_special_and_unknown_ids_dropped()
    {
        var ids = Qwen3.Encode("한국어 텍스트<|im_end|> and more").ToList();
        ids.Insert(2, 151_900); // in the model's embedding but not in the tokenizer
        var decoder = new StreamingDecoder(Qwen3);
        var streamed = string.Concat(ids.Select(decoder.Push)) + decoder.Flush();
        Assert.Equal("한국어 텍스트 and more", streamed);
        Assert.Equal(StreamingDecoder.Decode(Qwen3, ids), streamed);
    }

    [Fact]
    public void A_partial_character_at_the_end_is_flushed_as_the_full_decode_shows_it()
    {
        var decoder = new StreamingDecoder(Qwen3);
        Assert.Equal("", decoder.Push(ByteId(0xEC)));
        Assert.Equal("\uFFFD", decoder.Flush());
    }
}
