using System.Security.Cryptography;
using System.Text;

namespace RaftPipeline.Core.Store;

/// <summary>SHA-256 helpers. Every hash in the cache is lower-case hex, 64 characters.</summary>
public static class ContentHash
{
    public static string OfFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static string OfBytes(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string OfText(string text) => OfBytes(Encoding.UTF8.GetBytes(text));
}
