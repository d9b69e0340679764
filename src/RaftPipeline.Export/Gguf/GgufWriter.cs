using System.Text;

namespace RaftPipeline.Export.Gguf;

/// <summary>
/// Writes a GGUF version 3 file (little-endian), as gguf-py's GGUFWriter lays it out: the magic "GGUF", version,
/// tensor count, metadata count; the metadata (key, value type, value); the tensor infos (name, dimension count,
/// dimensions innermost first, ggml type, offset into the data section); zero padding to the alignment; then each
/// tensor's bytes, each starting at a multiple of the alignment.
/// </summary>
public static class GgufWriter
{
    public const uint Magic = 0x46554747; // "GGUF" read as a little-endian u32
    public const uint Version = 3;
    public const int DefaultAlignment = 32;

    /// <summary>Writes <paramref name="path"/> aside and renames it into place, so a failure leaves no half file.</summary>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, GgufValue>> metadata, IReadOnlyList<GgufTensorPlan> tensors,
        int alignment = DefaultAlignment)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
            if (!names.Add(t.Name)) throw new InvalidOperationException($"tensor '{t.Name}' is planned twice");
        var temp = path + ".partial";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: false))
            {
                w.Write(Magic);
                w.Write(Version);
                w.Write((ulong)tensors.Count);
                w.Write((ulong)metadata.Count);
                foreach (var (key, value) in metadata)
                {
                    WriteString(w, key);
                    w.Write((uint)value.Type);
                    WriteValue(w, value);
                }
                long offset = 0;
                foreach (var t in tensors)
                {
                    WriteString(w, t.Name);
                    w.Write((uint)t.Shape.Length);
                    for (int i = t.Shape.Length - 1; i >= 0; i--) w.Write((ulong)t.Shape[i]);
                    w.Write((uint)t.Type);
                    w.Write((ulong)offset);
                    offset = Align(offset + t.ByteLength, alignment);
                }
                Pad(w, alignment);
                foreach (var t in tensors)
                {
                    var bytes = t.Data();
                    if (bytes.Length != t.ByteLength)
                        throw new InvalidOperationException($"tensor '{t.Name}': produced {bytes.Length} bytes, planned {t.ByteLength}");
                    w.Write(bytes);
                    Pad(w, alignment);
                }
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    static long Align(long n, int alignment) => (n + alignment - 1) / alignment * alignment;

    static void Pad(BinaryWriter w, int alignment)
    {
        long pos = w.BaseStream.Position;
        long target = Align(pos, alignment);
        for (long i = pos; i < target; i++) w.Write((byte)0);
    }

    static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    static void WriteValue(BinaryWriter w, GgufValue v)
    {
        switch (v.Type)
        {
            case GgufValueType.UInt32: w.Write((uint)v.Value); break;
            case GgufValueType.Int32: w.Write((int)v.Value); break;
            case GgufValueType.Float32: w.Write((float)v.Value); break;
            case GgufValueType.Bool: w.Write((bool)v.Value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)v.Value); break;
            case GgufValueType.Array:
                w.Write((uint)v.ElementType);
                switch (v.ElementType)
                {
                    case GgufValueType.String:
                        var strings = (IReadOnlyList<string>)v.Value;
                        w.Write((ulong)strings.Count);
                        foreach (var s in strings) WriteString(w, s);
                        break;
                    case GgufValueType.Int32:
                        var ints = (IReadOnlyList<int>)v.Value;
                        w.Write((ulong)ints.Count);
                        foreach (var i in ints) w.Write(i);
                        break;
                    case GgufValueType.Float32:
                        var floats = (IReadOnlyList<float>)v.Value;
                        w.Write((ulong)floats.Count);
                        foreach (var f in floats) w.Write(f);
                        break;
                    default: throw new NotSupportedException($"GGUF arrays of {v.ElementType} are not written by this tool");
                }
                break;
            default: throw new NotSupportedException($"GGUF value type {v.Type} is not written by this tool");
        }
    }
}
