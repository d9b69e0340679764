using System.Text;

namespace RaftPipeline.Export.Tests.Support;

/// <summary>A GGUF header read back for assertions (metadata scalars, array lengths, tensor infos). llama.cpp is the
/// judge of whether a file works; this only lets a test name what it expects to find.</summary>
public sealed record GgufHeader(uint Version, IReadOnlyDictionary<string, object> Metadata, IReadOnlyList<GgufHeader.TensorInfo> Tensors, long DataStart)
{
    public sealed record TensorInfo(string Name, ulong[] Dims, uint Type, ulong Offset);

    public static GgufHeader Read(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path));
        if (r.ReadUInt32() != 0x46554747) throw new InvalidDataException("not GGUF");
        uint version = r.ReadUInt32();
        ulong tensors = r.ReadUInt64(), kvs = r.ReadUInt64();
        var metadata = new Dictionary<string, object>();
        for (ulong i = 0; i < kvs; i++)
        {
            var key = Str(r);
            metadata[key] = Value(r, r.ReadUInt32());
        }
        var infos = new List<TensorInfo>();
        for (ulong i = 0; i < tensors; i++)
        {
            var name = Str(r);
            var dims = new ulong[r.ReadUInt32()];
            for (int d = 0; d < dims.Length; d++) dims[d] = r.ReadUInt64();
            infos.Add(new TensorInfo(name, dims, r.ReadUInt32(), r.ReadUInt64()));
        }
        long pos = r.BaseStream.Position;
        return new GgufHeader(version, metadata, infos, (pos + 31) / 32 * 32);
    }

    static string Str(BinaryReader r) => Encoding.UTF8.GetString(r.ReadBytes((int)r.ReadUInt64()));

    static object Value(BinaryReader r, uint type) => type switch
    {
        0 => r.ReadByte(), 1 => r.ReadSByte(), 2 => r.ReadUInt16(), 3 => r.ReadInt16(), 4 => r.ReadUInt32(), 5 => r.ReadInt32(),
        6 => r.ReadSingle(), 7 => r.ReadByte() != 0, 8 => Str(r), 10 => r.ReadUInt64(), 11 => r.ReadInt64(), 12 => r.ReadDouble(),
        9 => Array(r),
        _ => throw new InvalidDataException($"value type {type}"),
    };

    static object[] Array(BinaryReader r)
    {
        uint type = r.ReadUInt32();
        var items = new object[r.ReadUInt64()];
        for (int i = 0; i < items.Length; i++) items[i] = Value(r, type);
        return items;
    }
}
