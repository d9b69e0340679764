using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace RaftPipeline.Modeling.Quantization;

/// <summary>
/// NF4 weights as transformers/bitsandbytes put them in a state dict, so a quantized model saves as safetensors
/// in the layout a bnb-4bit checkpoint uses. Source: bitsandbytes@95f9af3, bitsandbytes/nn/modules.py
/// Linear4bit._save_to_state_dict (prefix + "weight." + each key of QuantState.as_dict(packed=True)) and
/// bitsandbytes/functional.py QuantState.as_dict / from_dict, bitsandbytes/utils.py pack_dict_to_tensor:
///   {w}                                   uint8 [ceil(n/2), 1]  packed codes
///   {w}.absmax                            uint8 [blocks]        (fp32 [blocks] without double quantization)
///   {w}.quant_map                         fp32 [16]
///   {w}.nested_absmax                     fp32 [ceil(blocks/256)]
///   {w}.nested_quant_map                  fp32 [256]
///   {w}.quant_state.bitsandbytes__nf4     uint8 [len]: UTF-8 of json.dumps({"quant_type", "blocksize", "dtype",
///                                         "shape", "nested_blocksize", "nested_dtype", "nested_offset"})
/// </summary>
public static class Nf4StateDict
{
    public const string QuantStateSuffix = ".quant_state.bitsandbytes__nf4";
    public static readonly string[] TensorSuffixes = { ".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map" };

    /// <summary>True when <paramref name="key"/> is one of the statistics keys that ride along with a packed weight.</summary>
    public static bool IsStatisticsKey(string key) =>
        key.EndsWith(QuantStateSuffix, StringComparison.Ordinal) || TensorSuffixes.Any(s => key.EndsWith(".weight" + s, StringComparison.Ordinal));

    /// <summary>The entries for one weight; <paramref name="weightKey"/> is its full key, e.g. "...q_proj.weight".</summary>
    public static IReadOnlyList<(string Key, Tensor Value)> ToEntries(Nf4Tensor q, string weightKey)
    {
        var entries = new List<(string, Tensor)> { (weightKey, q.Packed), (weightKey + ".absmax", q.Absmax), (weightKey + ".quant_map", q.QuantMap) };
        if (q.Nested)
        {
            entries.Add((weightKey + ".nested_absmax", q.NestedAbsmax!));
            entries.Add((weightKey + ".nested_quant_map", q.NestedQuantMap!));
        }
        var json = Encoding.UTF8.GetBytes(PackedJson(q));
        entries.Add((weightKey + QuantStateSuffix, torch.tensor(json, ScalarType.Byte)));
        return entries;
    }

    /// <summary>json.dumps of the non-tensor items, in as_dict's insertion order and Python's separators.</summary>
    public static string PackedJson(Nf4Tensor q)
    {
        var sb = new StringBuilder();
        sb.Append("{\"quant_type\": \"nf4\", \"blocksize\": ").Append(q.BlockSize)
          .Append(", \"dtype\": \"").Append(q.DType).Append("\", \"shape\": [")
          .Append(string.Join(", ", q.Shape)).Append(']');
        if (q.Nested)
        {
            sb.Append(", \"nested_blocksize\": ").Append(q.NestedBlockSize)
              .Append(", \"nested_dtype\": \"float32\", \"nested_offset\": ").Append(PythonFloat.Repr(q.NestedOffset));
        }
        return sb.Append('}').ToString();
    }

    /// <summary>
    /// Reads one NF4 weight back. <paramref name="lookup"/> returns the tensor stored under a key, or null.
    /// <paramref name="source"/> names the file in error messages.
    /// </summary>
    public static Nf4Tensor FromEntries(string weightKey, Func<string, Tensor?> lookup, string source)
    {
        Tensor Require(string key, ScalarType dtype)
        {
            var t = lookup(key) ?? throw new InvalidDataException($"{source}: key '{key}' is missing (NF4 weight '{weightKey}' needs it)");
            if (t.dtype != dtype) throw new InvalidDataException($"{source}: key '{key}' has dtype {t.dtype}, expected {dtype}");
            return t;
        }

        var stateKey = weightKey + QuantStateSuffix;
        var stateBytes = Require(stateKey, ScalarType.Byte);
        var json = Encoding.UTF8.GetString(stateBytes.data<byte>().ToArray());
        JsonElement root;
        try { root = JsonDocument.Parse(json).RootElement; }
        catch (JsonException e) { throw new InvalidDataException($"{source}: key '{stateKey}' does not hold valid JSON: {e.Message}", e); }

        JsonElement Field(string name) => root.TryGetProperty(name, out var v)
            ? v : throw new InvalidDataException($"{source}: key '{stateKey}' lacks \"{name}\" in {json}");
        var quantType = Field("quant_type").GetString();
        if (quantType != "nf4") throw new InvalidDataException($"{source}: key '{stateKey}' has quant_type '{quantType}', expected 'nf4'");
        int blockSize = Field("blocksize").GetInt32();
        if (blockSize != Nf4Quantizer.BlockSize)
            throw new InvalidDataException($"{source}: key '{stateKey}' has blocksize {blockSize}, expected {Nf4Quantizer.BlockSize}");
        var shape = Field("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var dtype = Field("dtype").GetString()!;
        long n = shape.Aggregate(1L, (a, b) => a * b);
        long blocks = (n + blockSize - 1) / blockSize;

        var packed = Require(weightKey, ScalarType.Byte);
        if (packed.numel() != (n + 1) / 2)
            throw new InvalidDataException($"{source}: key '{weightKey}' holds {packed.numel()} bytes, expected {(n + 1) / 2} for shape [{string.Join(", ", shape)}]");
        var quantMap = Require(weightKey + ".quant_map", ScalarType.Float32);
        if (quantMap.numel() != 16) throw new InvalidDataException($"{source}: key '{weightKey}.quant_map' has {quantMap.numel()} values, expected 16");

        bool nested = root.TryGetProperty("nested_offset", out var offsetElement);
        var absmax = Require(weightKey + ".absmax", nested ? ScalarType.Byte : ScalarType.Float32);
        if (absmax.numel() != blocks)
            throw new InvalidDataException($"{source}: key '{weightKey}.absmax' has {absmax.numel()} values, expected {blocks}");
        if (!nested)
            return new Nf4Tensor { Packed = packed.reshape(-1, 1), Absmax = absmax.reshape(-1), QuantMap = quantMap, Shape = shape, DType = dtype };

        int nestedBlockSize = Field("nested_blocksize").GetInt32();
        var nestedAbsmax = Require(weightKey + ".nested_absmax", ScalarType.Float32);
        long nestedBlocks = (blocks + nestedBlockSize - 1) / nestedBlockSize;
        if (nestedAbsmax.numel() != nestedBlocks)
            throw new InvalidDataException($"{source}: key '{weightKey}.nested_absmax' has {nestedAbsmax.numel()} values, expected {nestedBlocks}");
        var nestedQuantMap = Require(weightKey + ".nested_quant_map", ScalarType.Float32);
        if (nestedQuantMap.numel() != 256)
            throw new InvalidDataException($"{source}: key '{weightKey}.nested_quant_map' has {nestedQuantMap.numel()} values, expected 256");
        return new Nf4Tensor
        {
            Packed = packed.reshape(-1, 1), Absmax = absmax.reshape(-1), QuantMap = quantMap,
            NestedAbsmax = nestedAbsmax.reshape(-1), NestedQuantMap = nestedQuantMap,
            // from_dict does torch.tensor(float(nested_offset)): a Python double narrowed to fp32.
            NestedOffset = (float)offsetElement.GetDouble(), NestedBlockSize = nestedBlockSize,
            Shape = shape, DType = dtype,
        };
    }
}
