using Microsoft.Win32.SafeHandles;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RaftPipeline.Modeling.Safetensors;

/// <summary>
/// The parsed and validated header of one safetensors file: 8 bytes little-endian header length N, N bytes of
/// UTF-8 JSON, then the data buffer. Validation follows the reference implementation (huggingface/safetensors):
/// every tensor's byte range lies inside the data, has exactly shape × dtype-size bytes, and the ranges tile the
/// buffer without overlap or gap.
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>The reference reader refuses headers above 100 MB; a larger one is a corrupt length, not a model.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    SafetensorsHeader(IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafetensorsEntry> entries, long dataStart, long dataLength)
    {
        Metadata = metadata;
        Entries = entries;
        DataStart = dataStart;
        DataLength = dataLength;
    }

    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>Tensors in the order the header lists them.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }
    /// <summary>Absolute file offset of the data buffer (8 + N).</summary>
    public long DataStart { get; }
    public long DataLength { get; }

    /// <summary>Reads and validates the header of an open file; <paramref name="file"/> names it in errors.</summary>
    public static SafetensorsHeader Read(SafeFileHandle handle, string file)
    {
        long fileLength = RandomAccess.GetLength(handle);
        if (fileLength < 8)
            throw new SafetensorsFormatException(file, null,
                $"truncated file: {fileLength} bytes, but a safetensors file starts with an 8-byte header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        ReadExactly(handle, lengthBytes, 0, file);
        ulong n = BitConverter.ToUInt64(lengthBytes);
        if (n > (ulong)(fileLength - 8))
            throw new SafetensorsFormatException(file, null,
                $"header length {n} (bytes 0..7) runs beyond the end of the file ({fileLength} bytes): truncated or not a safetensors file");
        if (n > MaxHeaderBytes)
            throw new SafetensorsFormatException(file, null, $"header length {n} exceeds the format's limit of {MaxHeaderBytes} bytes");
        var json = new byte[n];
        ReadExactly(handle, json, 8, file);
        long dataStart = 8 + (long)n;
        return Parse(json, file, dataStart, fileLength - dataStart);
    }

    static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string file)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer[done..], offset + done);
            if (n == 0) throw new SafetensorsFormatException(file, null, $"unexpected end of file at offset {offset + done}");
            done += n;
        }
    }

    static SafetensorsHeader Parse(byte[] json, string file, long dataStart, long dataLength)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(file, null, $"header (bytes 8..{dataStart - 1}) is not valid JSON: {e.Message}");
        }
        using (doc)
        try
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException(file, null, $"header must be a JSON object, found {doc.RootElement.ValueKind}");

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<SafetensorsEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new SafetensorsFormatException(file, property.Name, "appears twice in the header");
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new SafetensorsFormatException(file, null, "__metadata__ must be an object of string values");
                    foreach (var m in property.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                            throw new SafetensorsFormatException(file, null,
                                $"__metadata__.{m.Name} must be a string, found {m.Value.ValueKind}");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                entries.Add(ParseEntry(property, file));
            }
            CheckRanges(entries, file, dataLength);
            return new SafetensorsHeader(metadata, entries, dataStart, dataLength);
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json parses "\ud800" (a lone surrogate escape) but cannot turn it into a string: not valid text.
            throw new SafetensorsFormatException(file, null, $"header (bytes 8..{dataStart - 1}) holds a string that is not valid Unicode: {e.Message}");
        }
    }

    static SafetensorsEntry ParseEntry(JsonProperty property, string file)
    {
        var name = property.Name;
        var v = property.Value;
        if (v.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException(file, name, "header entry must be an object with dtype, shape and data_offsets");
        if (!v.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new SafetensorsFormatException(file, name, "missing string field 'dtype'");
        var dtypeName = dtypeElement.GetString()!;
        if (!SafetensorsDtype.TryParse(dtypeName, out var dtype, out int elementSize))
            throw new SafetensorsFormatException(file, name,
                $"unknown or unsupported dtype '{dtypeName}' (supported: {string.Join(", ", SafetensorsDtype.SupportedNames)})");

        if (!v.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new SafetensorsFormatException(file, name, "missing array field 'shape'");
        var shape = new long[shapeElement.GetArrayLength()];
        int i = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
                throw new SafetensorsFormatException(file, name, $"shape[{i}] must be a non-negative integer, found {d.GetRawText()}");
            shape[i++] = dim;
        }

        if (!v.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new SafetensorsFormatException(file, name, "missing field 'data_offsets' = [begin, end]");
        long[] be = new long[2];
        int j = 0;
        foreach (var o in offsets.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetInt64(out var off) || off < 0)
                throw new SafetensorsFormatException(file, name, $"data_offsets[{j}] must be a non-negative integer, found {o.GetRawText()}");
            be[j++] = off;
        }
        if (be[1] < be[0])
            throw new SafetensorsFormatException(file, name, $"data_offsets end {be[1]} is before begin {be[0]}");

        long elements = 1;
        try
        {
            foreach (var d in shape) elements = checked(elements * d);
            long expected = checked(elements * elementSize);
            if (be[1] - be[0] != expected)
                throw new SafetensorsFormatException(file, name,
                    $"data_offsets [{be[0]}, {be[1]}] hold {be[1] - be[0]} bytes, but shape [{string.Join(", ", shape)}] of {dtypeName} needs {expected}");
        }
        catch (OverflowException)
        {
            throw new SafetensorsFormatException(file, name, $"shape [{string.Join(", ", shape)}] is too large");
        }
        return new SafetensorsEntry(name, dtypeName, dtype, shape, be[0], be[1]);
    }

    static void CheckRanges(List<SafetensorsEntry> entries, string file, long dataLength)
    {
        foreach (var e in entries)
        {
            if (e.End > dataLength)
                throw new SafetensorsFormatException(file, e.Name,
                    $"data_offsets [{e.Begin}, {e.End}] run beyond the data buffer ({dataLength} bytes): the file is truncated or the header lies");
        }
        var sorted = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        long cursor = 0;
        SafetensorsEntry? previous = null;
        foreach (var e in sorted)
        {
            if (e.Begin < cursor)
                throw new SafetensorsFormatException(file, e.Name,
                    $"data_offsets [{e.Begin}, {e.End}] overlap tensor '{previous!.Name}' [{previous.Begin}, {previous.End}]");
            if (e.Begin > cursor)
                throw new SafetensorsFormatException(file, e.Name,
                    $"data_offsets begin at {e.Begin}, leaving a gap of {e.Begin - cursor} unused bytes after offset {cursor}");
            cursor = e.End;
            previous = e;
        }
        if (cursor != dataLength)
            throw new SafetensorsFormatException(file, null,
                $"the tensors cover {cursor} bytes of data but the file holds {dataLength} bytes after the header");
    }

    /// <summary>Serializes a header for the writer: JSON, padded with spaces to a multiple of 8 bytes.</summary>
    internal static byte[] Serialize(IReadOnlyDictionary<string, string>? metadata, IEnumerable<SafetensorsEntry> entries)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            foreach (var e in entries)
            {
                w.WriteStartObject(e.Name);
                w.WriteString("dtype", e.DtypeName);
                w.WriteStartArray("shape");
                foreach (var d in e.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(e.Begin);
                w.WriteNumberValue(e.End);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        var json = buffer.ToArray();
        int padded = (json.Length + 7) / 8 * 8;
        var result = new byte[padded];
        json.CopyTo(result, 0);
        for (int i = json.Length; i < padded; i++) result[i] = (byte)' ';
        return result;
    }
}
