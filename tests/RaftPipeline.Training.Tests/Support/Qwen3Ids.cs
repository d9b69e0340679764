namespace RaftPipeline.Training.Tests.Support;

/// <summary>Token ids of the embedded Qwen3 tokenizer (tokenizer.json), used to hand-build chat rows.</summary>
public static class Qwen3Ids
{
    public const int ImStart = 151644;   // <|im_start|> (special)
    public const int ImEnd = 151645;     // <|im_end|>   (special; the notebook's pad = eos)
    public const int Assistant = 77091;  // "assistant"
    public const int User = 872;         // "user"
    public const int Newline = 198;      // "\n"

    public static readonly int[] DefaultTemplate = [ImStart, Assistant];

    /// <summary><c>&lt;|im_start|&gt;user\n{q}&lt;|im_end|&gt;\n&lt;|im_start|&gt;assistant\n{a}&lt;|im_end|&gt;\n</c>.</summary>
    public static int[] Turn(int[] question, int[] answer) =>
        [ImStart, User, Newline, .. question, ImEnd, Newline, ImStart, Assistant, Newline, .. answer, ImEnd, Newline];
}
