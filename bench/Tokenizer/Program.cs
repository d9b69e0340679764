using System.Diagnostics;
using System.Text;
using System.Text.Json;
using RaftPipeline.Text.Tokenization;

// Encoding speed of the embedded Qwen3 tokenizer on CPU, on the parity corpus and on ~1 MB of Korean.
// Each path is timed over whole passes for at least MinSeconds after one warm-up pass.
const double MinSeconds = 2.0;

var root = FindRepoRoot();
var corpusPath = Path.Combine(root, "tests", "RaftPipeline.Text.Tests", "Fixtures", "tokenizer", "corpus.jsonl");
var corpus = File.ReadAllText(corpusPath).Split('\n').Where(l => l.Length > 0)
    .Select(l => JsonSerializer.Deserialize<string>(l)!).ToArray();

// ~1 MB of Korean: the corpus lines holding Hangul syllables, repeated (cycled) until 1 MiB of UTF-8.
var koreanLines = corpus.Where(s => s.Any(c => c is >= '\uAC00' and <= '\uD7A3')).ToArray();
var korean = new List<string>();
var koreanBytes = 0;
for (var k = 0; koreanBytes < 1 << 20; k++)
{
    var line = koreanLines[k % koreanLines.Length];
    korean.Add(line);
    koreanBytes += Encoding.UTF8.GetByteCount(line) + 1;
}
var koreanText = string.Join("\n", korean);

var load = Stopwatch.StartNew();
var tokenizer = HuggingFaceTokenizer.FromEmbeddedQwen3();
load.Stop();

Console.WriteLine($"# Tokenizer benchmark ({DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} logical cores, .NET {Environment.Version})");
Console.WriteLine($"load (tokenizer.json parse + BpeTokenizer.Create): {load.Elapsed.TotalSeconds:F2} s");
Console.WriteLine($"corpus: {corpus.Length} strings, {Bytes(corpus)} UTF-8 bytes; Korean: {korean.Count} lines, {Bytes(korean)} UTF-8 bytes");
Console.WriteLine();
Console.WriteLine("| input | path | tokens/s | MB/s | tokens per pass |");
Console.WriteLine("|---|---|---:|---:|---:|");

foreach (var (name, lines) in new[] { ("corpus", corpus), ("Korean 1 MB", korean.ToArray()) })
{
    var bytes = Bytes(lines);
    Measure(name, "plain loop: Encode per string, one thread", bytes, () => lines.Sum(line => tokenizer.Encode(line).Length));
    Measure(name, "plain loop on the library: BpeTokenizer.EncodeToIds", bytes, () => lines.Sum(line => tokenizer.Bpe.EncodeToIds(line).Count));
    Measure(name, $"Parallel.For over strings ({Environment.ProcessorCount} threads)", bytes, () =>
    {
        var total = 0;
        Parallel.For(0, lines.Length, () => 0, (k, _, sum) => sum + tokenizer.Encode(lines[k]).Length, sum => Interlocked.Add(ref total, sum));
        return total;
    });
}
Measure("Korean 1 MB", "one Encode call on the whole text", Encoding.UTF8.GetByteCount(koreanText), () => tokenizer.Encode(koreanText).Length);

// The cold pass (after the others, so JIT is warm): a fresh tokenizer whose word cache is empty.
var cold = HuggingFaceTokenizer.FromEmbeddedQwen3();
var coldWatch = Stopwatch.StartNew();
var coldTokens = korean.Sum(line => cold.Encode(line).Length);
coldWatch.Stop();
Row("Korean 1 MB", "plain loop, one pass, fresh tokenizer (empty word cache)", coldTokens, Bytes(korean), coldWatch.Elapsed.TotalSeconds, 1);


void Measure(string input, string path, long bytes, Func<int> pass)
{
    var tokens = pass(); // warm-up: JIT and word cache
    var watch = Stopwatch.StartNew();
    var passes = 0;
    do { pass(); passes++; } while (watch.Elapsed.TotalSeconds < MinSeconds);
    watch.Stop();
    Row(input, path, tokens, bytes, watch.Elapsed.TotalSeconds, passes);
}

static void Row(string input, string path, int tokensPerPass, long bytesPerPass, double seconds, int passes) =>
    Console.WriteLine($"| {input} | {path} | {tokensPerPass * (double)passes / seconds:N0} | {bytesPerPass * (double)passes / seconds / 1e6:F2} | {tokensPerPass:N0} |");

static long Bytes(IEnumerable<string> lines) => lines.Sum(l => (long)Encoding.UTF8.GetByteCount(l));

static string FindRepoRoot()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RaftPipeline.sln"))) return dir.FullName;
    throw new DirectoryNotFoundException("run from inside the repository (no RaftPipeline.sln found above)");
}
