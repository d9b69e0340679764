using System.Text;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;

namespace RaftPipeline.Modeling.Tests.Safetensors;

/// <summary>Each broken file is written byte by byte here, so the reader's checks are exercised one at a time.</summary>
public class SafetensorsErrorTests : IDisposable
{
    readonly TempDir _dir = new();

    public SafetensorsErrorTests() => TorchRuntime.EnsureInitialized();
    public void Dispose() => _dir.Dispose();

    string WriteRaw(string header, int dataBytes, ulong? lyingLength = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var path = _dir.File("broken.safetensors");
        using var s = File.Create(path);
        s.Write(BitConverter.GetBytes(lyingLength ?? (ulong)h.Length));
        s.Write(h);
        s.Write(new byte[dataBytes]);
        return path;
    }

    SafetensorsFormatException Broken(string header, int dataBytes, ulong? lyingLength = null)
    {
        var path = WriteRaw(header, dataBytes, lyingLength);
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Equal(path, e.File);
        Assert.Contains(path, e.Message);
        return e;
    }

    [Fact]
    public void A_valid_hand_written_file_opens()
    {
        var path = WriteRaw("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8);
        using var f = SafetensorsFile.Open(path);
        Assert.Single(f.Entries);
    }

    [Fact]
    public void Truncated_file_shorter_than_the_length_prefix()
    {
        var path = _dir.File("tiny.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Header_length_beyond_the_file() =>
        Assert.Contains("beyond the end of the file", Broken("{}", 0, lyingLength: 1000).Message);

    [Fact]
    public void Header_that_is_not_json() =>
        Assert.Contains("not valid JSON", Broken("{nope", 0).Message);

    [Fact]
    public void Data_shorter_than_the_offsets_say()
    {
        var e = Broken("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 10);
        Assert.Equal("w", e.Tensor);
        Assert.Contains("beyond the data buffer (10 bytes)", e.Message);
    }

    [Fact]
    public void Byte_count_that_does_not_match_shape_and_dtype()
    {
        var e = Broken("""{"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,10]}}""", 10);
        Assert.Equal("w", e.Tensor);
        Assert.Contains("needs 12", e.Message);
    }

    [Fact]
    public void Overlapping_ranges_name_both_tensors()
    {
        var e = Broken("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12);
        Assert.Equal("b", e.Tensor);
        Assert.Contains("overlap tensor 'a'", e.Message);
    }

    [Fact]
    public void Gap_between_ranges()
    {
        var e = Broken("""{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}""", 6);
        Assert.Equal("b", e.Tensor);
        Assert.Contains("gap", e.Message);
    }

    [Fact]
    public void Trailing_bytes_after_the_last_tensor() =>
        Assert.Contains("cover 2 bytes", Broken("""{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}""", 5).Message);

    [Fact]
    public void Unknown_dtype_is_named()
    {
        var e = Broken("""{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}""", 2);
        Assert.Equal("a", e.Tensor);
        Assert.Contains("'F8_E4M3'", e.Message);
    }

    [Fact]
    public void Negative_dimension_and_missing_fields()
    {
        Assert.Contains("shape[1]", Broken("""{"a":{"dtype":"U8","shape":[2,-1],"data_offsets":[0,2]}}""", 2).Message);
        Assert.Contains("data_offsets", Broken("""{"a":{"dtype":"U8","shape":[2]}}""", 2).Message);
        Assert.Contains("'dtype'", Broken("""{"a":{"shape":[2],"data_offsets":[0,2]}}""", 2).Message);
    }

    [Fact]
    public void Metadata_values_must_be_strings() =>
        Assert.Contains("__metadata__.n", Broken("""{"__metadata__":{"n":3}}""", 0).Message);

    [Fact]
    public void A_missing_shard_is_named_with_the_index()
    {
        using var scope = torch.NewDisposeScope();
        SafetensorsWriter.WriteSharded(_dir.Path, [TensorToWrite.Of("a", torch.ones(4)), TensorToWrite.Of("b", torch.ones(4))], 16);
        File.Delete(_dir.File("model-00002-of-00002.safetensors"));
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCheckpoint.Open(_dir.Path).Dispose());
        Assert.EndsWith("model.safetensors.index.json", e.File);
        Assert.Equal("b", e.Tensor);
        Assert.Contains("'model-00002-of-00002.safetensors' named in the index is missing", e.Message);
    }

    [Fact]
    public void An_index_that_places_a_tensor_in_the_wrong_shard()
    {
        using var scope = torch.NewDisposeScope();
        SafetensorsWriter.WriteSharded(_dir.Path, [TensorToWrite.Of("a", torch.ones(4)), TensorToWrite.Of("b", torch.ones(4))], 16);
        var index = _dir.File("model.safetensors.index.json");
        File.WriteAllText(index, File.ReadAllText(index).Replace("\"b\": \"model-00002-of-00002.safetensors\"", "\"b\": \"model-00001-of-00002.safetensors\""));
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCheckpoint.Open(_dir.Path).Dispose());
        Assert.Equal("b", e.Tensor);
        Assert.Contains("does not contain it", e.Message);
    }

    [Theory]
    [InlineData("pytorch_model.bin")]
    [InlineData("model.pt")]
    public void Pickle_checkpoints_are_refused_without_being_read(string name)
    {
        // Content that would be a pickle opcode stream; it must never be opened.
        File.WriteAllBytes(_dir.File(name), [0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]);
        var direct = Assert.Throws<NotSupportedException>(() => SafetensorsCheckpoint.Open(_dir.File(name)).Dispose());
        Assert.Contains("pickle", direct.Message);
        Assert.Contains("safetensors", direct.Message);
        var folder = Assert.Throws<NotSupportedException>(() => SafetensorsCheckpoint.Open(_dir.Path).Dispose());
        Assert.Contains(name, folder.Message);
    }

    [Fact]
    public void A_folder_without_weights_says_what_it_expected()
    {
        var e = Assert.Throws<FileNotFoundException>(() => SafetensorsCheckpoint.Open(_dir.Path).Dispose());
        Assert.Contains("model.safetensors", e.Message);
    }
}
