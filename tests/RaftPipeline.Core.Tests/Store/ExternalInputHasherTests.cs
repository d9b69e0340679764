using System.Security.Cryptography;
using System.Text;
using RaftPipeline.Core.Store;
using RaftPipeline.Core.Tests.Engine;

namespace RaftPipeline.Core.Tests.Store;

public class ExternalInputHasherTests
{
    static string Sha(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void A_file_hashes_to_the_sha256_of_its_bytes()
    {
        using var dir = new TempFolder();
        var file = dir.Write("abc.txt", "abc");
        var digest = new ExternalInputHasher(InputHashMemo.InMemory()).Hash(file);
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", digest.Sha256);
        Assert.False(digest.IsFolder);
        Assert.Equal(3, digest.Bytes);
    }

    [Fact]
    public void A_folder_hashes_to_the_sha256_of_its_sha256sum_listing_in_byte_order_hidden_files_included()
    {
        using var dir = new TempFolder();
        dir.Write("model/config.json", "{}");
        dir.Write("model/.gitattributes", "*.bin lfs");
        dir.Write("model/B.txt", "upper");
        dir.Write("model/sub/a.txt", "nested");
        Directory.CreateDirectory(dir["model/empty"]);

        var digest = new ExternalInputHasher(InputHashMemo.InMemory()).Hash(dir["model"]);

        // Ordinal order: '.' (0x2E) < 'B' (0x42) < 'c' < 's'.
        var listing =
            $"{Sha("*.bin lfs")}  .gitattributes\n" +
            $"{Sha("upper")}  B.txt\n" +
            $"{Sha("{}")}  config.json\n" +
            $"{Sha("nested")}  sub/a.txt\n";
        Assert.Equal(Sha(listing), digest.Sha256);
        Assert.True(digest.IsFolder);
        Assert.Equal(4, digest.FileCount);
    }

    [Fact]
    public void Renaming_a_file_inside_a_folder_changes_the_folder_hash()
    {
        using var dir = new TempFolder();
        dir.Write("m/a.txt", "x");
        var hasher = new ExternalInputHasher(InputHashMemo.InMemory());
        var before = hasher.Hash(dir["m"]).Sha256;
        File.Move(dir["m/a.txt"], dir["m/b.txt"]);
        Assert.NotEqual(before, hasher.Hash(dir["m"]).Sha256);
    }

    [Fact]
    public void Symbolic_links_are_followed_and_hashed_under_the_link_name()
    {
        using var dir = new TempFolder();
        var blob = dir.Write("blobs/0a1b", "weights");
        Directory.CreateDirectory(dir["snapshot"]);
        File.CreateSymbolicLink(dir["snapshot/model.bin"], blob);
        dir.Write("copy/model.bin", "weights");

        var hasher = new ExternalInputHasher(InputHashMemo.InMemory());
        Assert.Equal(hasher.Hash(dir["copy"]).Sha256, hasher.Hash(dir["snapshot"]).Sha256);
    }

    [Fact]
    public void A_broken_link_is_an_error_naming_it()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir["m"]);
        File.CreateSymbolicLink(dir["m/gone.bin"], dir["nowhere"]);
        var e = Assert.Throws<IOException>(() => new ExternalInputHasher(InputHashMemo.InMemory()).Hash(dir["m"]));
        Assert.Contains("gone.bin", e.Message);
        Assert.Contains("broken symbolic link", e.Message);
    }

    [Fact]
    public void A_missing_input_is_an_error_naming_the_path()
    {
        using var dir = new TempFolder();
        var e = Assert.Throws<FileNotFoundException>(() => new ExternalInputHasher(InputHashMemo.InMemory()).Hash(dir["data.csv"]));
        Assert.Contains(dir["data.csv"], e.Message);
    }

    [Fact]
    public void Touching_mtime_keeps_the_hash_and_changing_content_changes_it()
    {
        using var dir = new TempFolder();
        var file = dir.Write("data.csv", "a,b\n1,2\n");
        var hasher = new ExternalInputHasher(InputHashMemo.Open(dir["cache"]));
        var first = hasher.Hash(file).Sha256;
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(1));
        Assert.Equal(first, hasher.Hash(file).Sha256);
        File.WriteAllText(file, "a,b\n1,3\n");
        Assert.NotEqual(first, hasher.Hash(file).Sha256);
    }

    [Fact]
    public void The_memo_skips_rehashing_an_unchanged_size_and_mtime_and_verify_rehashes()
    {
        using var dir = new TempFolder();
        var file = dir.Write("model/weights.bin", "AAAA");
        var old = DateTime.UtcNow.AddDays(-1);
        File.SetLastWriteTimeUtc(file, old);
        var memo = InputHashMemo.Open(dir["cache"]);
        var first = new ExternalInputHasher(memo).Hash(dir["model"]).Sha256;
        memo.Save();
        Assert.True(File.Exists(Path.Combine(dir["cache"], InputHashMemo.FileName)));

        // Same size, same mtime, other bytes: only a memo that is really consulted would miss this.
        File.WriteAllText(file, "BBBB");
        File.SetLastWriteTimeUtc(file, old);

        var reopened = InputHashMemo.Open(dir["cache"]);
        Assert.Equal(first, new ExternalInputHasher(reopened).Hash(dir["model"]).Sha256);
        Assert.NotEqual(first, new ExternalInputHasher(reopened, verify: true).Hash(dir["model"]).Sha256);
    }

    [Fact]
    public void A_file_modified_within_the_racy_window_is_not_memoized()
    {
        using var dir = new TempFolder();
        var file = dir.Write("fresh.txt", "1111");
        var memo = InputHashMemo.Open(dir["cache"]);
        var first = new ExternalInputHasher(memo).Hash(file).Sha256;
        var mtime = File.GetLastWriteTimeUtc(file);
        File.WriteAllText(file, "2222");
        File.SetLastWriteTimeUtc(file, mtime);
        Assert.NotEqual(first, new ExternalInputHasher(memo).Hash(file).Sha256);
    }
}
