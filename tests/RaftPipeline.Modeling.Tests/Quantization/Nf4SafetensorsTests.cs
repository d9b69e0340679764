using RaftPipeline.Modeling.Native;
using RaftPipeline.Modeling.Quantization;
using RaftPipeline.Modeling.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Tests.Quantization;

public class Nf4SafetensorsTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("nf4-").FullName;
    public Nf4SafetensorsTests() => TorchRuntime.EnsureInitialized();
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Saved_keys_dtypes_and_shapes_are_the_bnb_4bit_layout()
    {
        using var scope = NewDisposeScope();
        var w = (torch.randn(96, 64, generator: new torch.Generator(1)) * 0.05).to(ScalarType.BFloat16);
        using var linear = Nf4Linear.FromDense(w);
        var path = Path.Combine(_dir, "q.safetensors");
        SafetensorsWriter.Write(path, linear.named_buffers().Select(b => ("model.layers.0.self_attn.q_proj." + b.name, b.buffer)));
        using var file = SafetensorsFile.Open(path);
        var layout = file.Entries.ToDictionary(e => e.Name, e => $"{e.DtypeName}[{string.Join(",", e.Shape)}]");
        const string p = "model.layers.0.self_attn.q_proj.weight";
        var json = linear.Weight;
        string state = Nf4StateDict.PackedJson(json);
        Assert.Equal(new Dictionary<string, string>
        {
            [p] = "U8[3072,1]",                 // 96*64/2 packed bytes
            [p + ".absmax"] = "U8[96]",         // 6144/64 blocks, double-quantized
            [p + ".quant_map"] = "F32[16]",
            [p + ".nested_absmax"] = "F32[1]",  // ceil(96/256)
            [p + ".nested_quant_map"] = "F32[256]",
            [p + ".quant_state.bitsandbytes__nf4"] = $"U8[{state.Length}]",
        }, layout);
        var stored = System.Text.Encoding.UTF8.GetString(file.Read(p + ".quant_state.bitsandbytes__nf4").data<byte>().ToArray());
        Assert.Equal(state, stored);
        Assert.StartsWith("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": [96, 64], " +
                          "\"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": ", stored);
        Assert.Equal(json.NestedOffset, float.Parse(stored[(stored.LastIndexOf(' ') + 1)..^1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_saved_and_reloaded_nf4_linear_computes_the_same_outputs()
    {
        using var scope = NewDisposeScope();
        var w = (torch.randn(128, 192, generator: new torch.Generator(2)) * 0.05).to(ScalarType.BFloat16);
        using var linear = Nf4Linear.FromDense(w);
        var path = Path.Combine(_dir, "rt.safetensors");
        SafetensorsWriter.Write(path, linear.named_buffers().Select(b => ("lin." + b.name, b.buffer)));
        using var file = SafetensorsFile.Open(path);
        var q = Nf4StateDict.FromEntries("lin.weight", k => file.Contains(k) ? file.Read(k) : null, path);
        using var reloaded = new Nf4Linear(q);
        var x = torch.randn(3, 5, 192, generator: new torch.Generator(3));
        var a = linear.forward(x);
        var b = reloaded.forward(x);
        Assert.Equal(ScalarType.Float32, a.dtype);       // back to the input's dtype
        Assert.True(a.eq(b).all().item<bool>());
        Assert.Equal(linear.Weight.NestedOffset, reloaded.Weight.NestedOffset);
        Assert.True(linear.Weight.Packed.eq(reloaded.Weight.Packed).all().item<bool>());
    }

    [Fact]
    public void A_missing_statistic_is_refused_naming_the_key_and_the_file()
    {
        using var scope = NewDisposeScope();
        using var linear = Nf4Linear.FromDense(torch.randn(64, 64).to(ScalarType.BFloat16));
        var entries = linear.named_buffers().Where(b => b.name != "weight.nested_absmax").ToDictionary(b => "m." + b.name, b => b.buffer);
        var e = Assert.Throws<InvalidDataException>(() => Nf4StateDict.FromEntries("m.weight", k => entries.GetValueOrDefault(k), "shard-1.safetensors"));
        Assert.Equal("shard-1.safetensors: key 'm.weight.nested_absmax' is missing (NF4 weight 'm.weight' needs it)", e.Message);
    }

    [Fact]
    public void Converting_the_module_dtype_leaves_codes_and_statistics_alone()
    {
        using var scope = NewDisposeScope();
        using var linear = Nf4Linear.FromDense(torch.randn(64, 128).to(ScalarType.BFloat16));
        var before = linear.forward(torch.ones(1, 128));
        linear.to(ScalarType.Float16);
        Assert.Equal(ScalarType.Float32, linear.Weight.QuantMap.dtype);
        Assert.Equal(ScalarType.Float32, linear.Weight.NestedAbsmax!.dtype);
        Assert.Equal(ScalarType.Byte, linear.Weight.Packed.dtype);
        Assert.True(before.eq(linear.forward(torch.ones(1, 128))).all().item<bool>());
    }

    [Fact]
    public void Forward_computes_in_bf16_with_the_dequantized_weight()
    {
        using var scope = NewDisposeScope();
        var w = torch.randn(32, 64, generator: new torch.Generator(9)).to(ScalarType.BFloat16);
        using var linear = Nf4Linear.FromDense(w);
        var x = torch.randn(4, 64, generator: new torch.Generator(10));
        var expected = nn.functional.linear(x.to(ScalarType.BFloat16), linear.DenseWeight(ScalarType.BFloat16)).to(ScalarType.Float32);
        Assert.True(expected.eq(linear.forward(x)).all().item<bool>());
        Assert.Equal(64, linear.InFeatures);
        Assert.Equal(32, linear.OutFeatures);
    }
}
