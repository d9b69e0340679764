using System.Text;
using System.Text.Json;
using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Safetensors;
using RaftPipeline.Modeling.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Safetensors;

public class SafetensorsRoundTripTests
{
    public SafetensorsRoundTripTests() => TorchRuntime.EnsureInitialized();

    static Tensor Sample(ScalarType type, long[] shape)
    {
        var n = shape.Aggregate(1L, (a, b) => a * b);
        var values = torch.arange(n, ScalarType.Float64).mul(0.37).sub(n / 5.0);
        return type switch
        {
            ScalarType.Bool => values.gt(0).reshape(shape),
            ScalarType.Byte => values.abs().remainder(250).to(type).reshape(shape),
            _ => values.to(type).reshape(shape),
        };
    }

    public static IEnumerable<object[]> AllDtypes() =>
        new[] { ScalarType.Bool, ScalarType.Byte, ScalarType.Int8, ScalarType.Int16, ScalarType.Int32, ScalarType.Int64,
                ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float32, ScalarType.Float64 }
            .Select(t => new object[] { t });

    [Theory]
    [MemberData(nameof(AllDtypes))]
    public void Every_dtype_round_trips_bit_exactly_with_metadata(ScalarType type)
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var a = Sample(type, [3, 5]);
        var b = Sample(type, [7]);
        var scalar = Sample(type, []);
        var path = dir.File("t.safetensors");
        SafetensorsWriter.Write(path, [("a", a), ("b.c", b), ("s", scalar)], new Dictionary<string, string> { ["format"] = "pt", ["note"] = "한국어" });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("한국어", file.Metadata["note"]);
        Assert.Equal(["a", "b.c", "s"], file.Entries.Select(e => e.Name));
        Assert.Equal(SafetensorsDtype.NameOf(type), file.Entry("a").DtypeName);
        foreach (var (name, expected) in new[] { ("a", a), ("b.c", b), ("s", scalar) })
        {
            var got = file.Read(name);
            Assert.Equal(type, got.dtype);
            Assert.Equal(expected.shape, got.shape);
            Assert.Equal(expected.bytes.ToArray(), got.bytes.ToArray());
        }
    }

    [Fact]
    public void Header_is_padded_with_spaces_to_8_bytes_and_offsets_tile_the_data()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var path = dir.File("t.safetensors");
        SafetensorsWriter.Write(path, [("x", torch.ones(3, ScalarType.Float16)), ("yy", torch.ones(1, ScalarType.Int8))]);
        var bytes = File.ReadAllBytes(path);
        var n = BitConverter.ToUInt64(bytes, 0);
        Assert.Equal(0UL, n % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.StartsWith("{", header);
        Assert.Equal(header.TrimEnd(' '), header.TrimEnd(' ').TrimEnd());
        using var doc = JsonDocument.Parse(header);
        Assert.Equal("[0,6]", doc.RootElement.GetProperty("x").GetProperty("data_offsets").GetRawText());
        Assert.Equal("[6,7]", doc.RootElement.GetProperty("yy").GetProperty("data_offsets").GetRawText());
        Assert.Equal(8 + (long)n + 7, bytes.Length);
    }

    [Fact]
    public void Read_converts_to_the_requested_dtype_and_ReadInto_fills_an_existing_parameter()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var w = torch.tensor(new float[] { 1.5f, -2.25f, 3.0f, 0.125f }).reshape(2, 2).to(ScalarType.BFloat16);
        var path = dir.File("t.safetensors");
        SafetensorsWriter.Write(path, [("w", w)]);
        using var file = SafetensorsFile.Open(path);
        var f32 = file.Read("w", dtype: ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, f32.dtype);
        Assert.Equal(new float[] { 1.5f, -2.25f, 3.0f, 0.125f }, f32.data<float>().ToArray());

        var target = torch.zeros(2, 2, ScalarType.Float32);
        file.ReadInto("w", target);
        Assert.Equal(new float[] { 1.5f, -2.25f, 3.0f, 0.125f }, target.data<float>().ToArray());

        var wrong = torch.zeros(4, ScalarType.Float32);
        var e = Assert.Throws<SafetensorsFormatException>(() => file.ReadInto("w", wrong));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("[2, 2]", e.Message);
    }

    [Fact]
    public void Sharded_write_splits_by_size_and_the_checkpoint_reads_every_tensor_back()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var tensors = Enumerable.Range(0, 5).Select(i => ($"model.layers.{i}.w", torch.full(10, i, ScalarType.Float32))).ToList();
        // 40 bytes each; limit 100 → 2 per shard → 3 shards.
        var files = SafetensorsWriter.WriteSharded(dir.Path, tensors.Select(t => TensorToWrite.Of(t.Item1, t.Item2)).ToList(), 100);
        Assert.Equal(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", "model.safetensors.index.json"],
            files.Select(Path.GetFileName));
        using var index = JsonDocument.Parse(File.ReadAllText(dir.File("model.safetensors.index.json")));
        Assert.Equal(200, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        Assert.Equal("model-00003-of-00003.safetensors", index.RootElement.GetProperty("weight_map").GetProperty("model.layers.4.w").GetString());

        using var ckpt = SafetensorsCheckpoint.Open(dir.Path);
        Assert.Equal(5, ckpt.TensorNames.Count);
        for (int i = 0; i < 5; i++)
            Assert.All(ckpt.Read($"model.layers.{i}.w").data<float>().ToArray(), v => Assert.Equal(i, v));
    }

    [Fact]
    public void Sharded_write_with_a_large_limit_writes_one_model_safetensors()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var files = SafetensorsWriter.WriteSharded(dir.Path, [TensorToWrite.Of("w", torch.ones(4))], 1 << 20);
        Assert.Equal(["model.safetensors"], files.Select(Path.GetFileName));
        using var ckpt = SafetensorsCheckpoint.Open(dir.Path);
        Assert.Equal("pt", ckpt.Metadata["format"]);
    }

    [Fact]
    public void The_writer_calls_producers_lazily_and_converts_to_the_declared_dtype()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var produced = new List<string>();
        var entries = new[]
        {
            new TensorToWrite("a", ScalarType.BFloat16, [2], () => { produced.Add("a"); return torch.tensor(new float[] { 1, 2 }); }),
            new TensorToWrite("b", ScalarType.Float32, [1], () => { produced.Add("b"); return torch.tensor(new float[] { 3 }); }),
        };
        SafetensorsWriter.Write(dir.File("x.safetensors"), entries);
        Assert.Equal(["a", "b"], produced);
        using var file = SafetensorsFile.Open(dir.File("x.safetensors"));
        Assert.Equal("BF16", file.Entry("a").DtypeName);
        Assert.Equal(new float[] { 1, 2 }, file.Read("a", dtype: ScalarType.Float32).data<float>().ToArray());

        var bad = new[] { new TensorToWrite("c", ScalarType.Float32, [3], () => torch.ones(2)) };
        var e = Assert.Throws<InvalidOperationException>(() => SafetensorsWriter.Write(dir.File("y.safetensors"), bad));
        Assert.Contains("'c'", e.Message);
    }
}
