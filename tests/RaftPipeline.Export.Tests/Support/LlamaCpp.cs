using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;

namespace RaftPipeline.Export.Tests.Support;

/// <summary>
/// llama.cpp (LLamaSharp 0.30.0's CPU backend) reading a GGUF we wrote: its metadata, its logits for a token
/// sequence, its own greedy continuation, its tokenizer, and its chat-template rendering.
/// </summary>
public sealed class LlamaCpp : IDisposable
{
    readonly LLamaWeights _weights;
    readonly LLamaContext _context;
    readonly LoraAdapter? _lora;

    static LlamaCpp()
    {
        // llama.cpp logs every load at length; keep warnings and errors only, so a failure's cause stays readable.
        NativeLogConfig.llama_log_set((level, message) =>
        {
            if (level is LLamaLogLevel.Warning or LLamaLogLevel.Error) Console.Error.Write(message);
        });
    }

    /// <param name="flashAttention">null: llama.cpp's default (auto, on for the CPU backend)</param>
    public LlamaCpp(string ggufPath, string? loraPath = null, float loraScale = 1f, bool? flashAttention = null)
    {
        var p = new ModelParams(ggufPath) { ContextSize = 512, GpuLayerCount = 0, BatchSize = 512, Threads = 2, FlashAttention = flashAttention };
        _weights = LLamaWeights.LoadFromFile(p);
        _context = _weights.CreateContext(p);
        if (loraPath is not null)
        {
            _lora = _weights.NativeHandle.LoadLoraFromFile(loraPath);
            Span<(LoraAdapter, float)> adapters = [(_lora, loraScale)];
            _context.NativeHandle.SetLoraAdapters(adapters);
        }
    }

    public IReadOnlyDictionary<string, string> Metadata => _weights.Metadata;

    public int VocabSize => _weights.Vocab.Count;

    /// <summary>Logits [position][vocab] for every position of <paramref name="ids"/>, in one batch from position 0.</summary>
    public float[][] Logits(IReadOnlyList<int> ids)
    {
        _context.NativeHandle.MemoryClear();
        var batch = new LLamaBatch();
        for (int i = 0; i < ids.Count; i++) batch.Add((LLamaToken)ids[i], i, LLamaSeqId.Zero, true);
        var result = _context.NativeHandle.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode: {result}");
        var rows = new float[ids.Count][];
        for (int i = 0; i < ids.Count; i++) rows[i] = _context.NativeHandle.GetLogitsIth(i).ToArray();
        return rows;
    }

    /// <summary>llama.cpp's own greedy decoding: argmax of its logits, one token at a time with its KV cache.</summary>
    public List<int> Greedy(IReadOnlyList<int> prompt, int newTokens)
    {
        _context.NativeHandle.MemoryClear();
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Count; i++) batch.Add((LLamaToken)prompt[i], i, LLamaSeqId.Zero, i == prompt.Count - 1);
        var output = new List<int>();
        int position = prompt.Count;
        for (int step = 0; step < newTokens; step++)
        {
            var result = _context.NativeHandle.Decode(batch);
            if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode: {result}");
            var logits = _context.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
            int next = ArgMax(logits);
            output.Add(next);
            batch.Clear();
            batch.Add((LLamaToken)next, position++, LLamaSeqId.Zero, true);
        }
        return output;
    }

    public int[] Tokenize(string text, bool addBos, bool special) =>
        _context.NativeHandle.ModelHandle.Tokenize(text, addBos, special, Encoding.UTF8).Select(t => (int)t).ToArray();

    /// <summary>llama_chat_apply_template with the template the GGUF carries (tokenizer.chat_template).</summary>
    public string ApplyChatTemplate(IEnumerable<(string Role, string Content)> messages, bool addAssistant)
    {
        var template = new LLamaTemplate(_weights.NativeHandle) { AddAssistant = addAssistant };
        foreach (var (role, content) in messages) template.Add(role, content);
        return Encoding.UTF8.GetString(template.Apply());
    }

    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    public void Dispose()
    {
        _context.Dispose();
        _lora?.Unload();
        _weights.Dispose();
    }
}
