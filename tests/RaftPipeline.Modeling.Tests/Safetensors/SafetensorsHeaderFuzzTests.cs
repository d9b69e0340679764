using System.Text;
using CsCheck;
using RaftPipeline.Fuzzing;
using RaftPipeline.Modeling.Safetensors;

namespace RaftPipeline.Modeling.Tests.Safetensors;

/// <summary>Every file either has a header that reads or gives a <see cref="SafetensorsFormatException"/> naming it; never another exception.</summary>
public class SafetensorsHeaderFuzzTests
{
    static readonly string[] JsonTokens =
    [
        "{", "}", "[", "]", ",", ":", "\"", "\\u0000", "\\ud800", "-1", "1e30", "18446744073709551615", "9223372036854775807", "null",
        "true", "0.5", "\"F32\"", "\"BF16\"", "\"U8\"", "\"F8_E4M3\"", "\"shape\"", "\"dtype\"", "\"data_offsets\"", "\"__metadata__\"", "[]", "[0,0]",
    ];

    static byte[] Frame(string json, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(json);
        return [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. new byte[dataBytes]];
    }

    [Fact]
    public void Mutated_headers_read_or_fail_with_a_located_safetensors_error()
    {
        var seeds = new[]
        {
            """{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]}}""",
            """{"w":{"dtype":"U8","shape":[],"data_offsets":[0,1]},"e":{"dtype":"I64","shape":[0,4],"data_offsets":[1,1]}}""",
        };
        using var dir = new Support.TempDir();
        // Half the inputs keep a correct length prefix around a mutated header; the others mutate the whole file.
        var framed = Mutations.Of(seeds, JsonTokens).Select(json => Frame(json, 24));
        var raw = Mutations.OfBytes(seeds.Select(s => Frame(s, 24)).ToList(), JsonTokens.Select(Encoding.UTF8.GetBytes).ToList());
        Gen.OneOf(framed, raw).Fuzz(bytes =>
        {
            var path = Path.Combine(dir.Path, $"{Guid.NewGuid():N}.safetensors");
            File.WriteAllBytes(path, bytes);
            try
            {
                using var handle = File.OpenHandle(path);
                var header = SafetensorsHeader.Read(handle, path);
                Assert.All(header.Entries, e => Assert.InRange(e.End, e.Begin, header.DataLength));
            }
            catch (SafetensorsFormatException e)
            {
                Assert.Equal(path, e.File);
            }
            finally
            {
                File.Delete(path);
            }
        }, print: b => Convert.ToHexString(b));
    }

    [Fact]
    public void Found_by_fuzzing_a_lone_surrogate_escape_in_a_name_is_a_format_error_not_an_InvalidOperationException()
    {
        using var dir = new Support.TempDir();
        var path = Path.Combine(dir.Path, "x.safetensors");
        File.WriteAllBytes(path, Frame("""{"_\ud800_":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4));
        using var handle = File.OpenHandle(path);
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsHeader.Read(handle, path));
        Assert.Equal(path, e.File);
        Assert.StartsWith("header (bytes 8..", e.Problem);
        Assert.Contains("not valid Unicode", e.Problem);
    }
}
