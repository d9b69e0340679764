using System.Buffers.Binary;
using System.Text;

namespace RaftPipeline.Modeling.Native;

/// <summary>
/// Marks chosen symbol-version needs of an ELF64 shared library as weak (VER_FLG_WEAK).
/// Why: TorchSharp-cpu 0.107's libLibTorchSharp.so needs GLIBCXX_3.4.32 (GCC 13's libstdc++), which
/// Debian 12 and Ubuntu 22.04 lack. The only symbol behind that need is std::ios_base_library_init, a
/// link-time anchor that is never called, so a weak need lets the dynamic loader accept the library
/// (verified: matmul, autograd, bf16 run correctly). See shared/gpu/README.md.
/// </summary>
public static class ElfVersionPatcher
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    /// <summary>A version need found in the file: the library it is from, the version name, its flags.</summary>
    public sealed record VersionNeed(string File, string Name, ushort Flags)
    {
        public bool IsWeak => (Flags & VerFlgWeak) != 0;
    }

    /// <summary>Lists every version need of an ELF64 little-endian image.</summary>
    public static IReadOnlyList<VersionNeed> ReadNeeds(ReadOnlySpan<byte> image)
    {
        var needs = new List<VersionNeed>();
        Walk(image, (file, name, flags, _) => needs.Add(new VersionNeed(file, name, flags)));
        return needs;
    }

    /// <summary>
    /// Sets VER_FLG_WEAK on every need whose version name is in <paramref name="versions"/>.
    /// Returns how many flags changed (0 when already patched or absent).
    /// </summary>
    public static int MarkWeak(byte[] image, IReadOnlySet<string> versions) => SetWeak(image, versions, weak: true);

    /// <summary>Sets (<paramref name="weak"/>) or clears VER_FLG_WEAK on the named needs; returns how many flags changed.
    /// Clearing restores a library as its package ships it (tests use it to start from an unpatched copy).</summary>
    public static int SetWeak(byte[] image, IReadOnlySet<string> versions, bool weak)
    {
        var offsets = new List<(int Offset, ushort Flags)>();
        Walk(image, (_, name, flags, flagsOffset) =>
        {
            if (versions.Contains(name) && ((flags & VerFlgWeak) != 0) != weak) offsets.Add((flagsOffset, flags));
        });
        foreach (var (offset, flags) in offsets)
            BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(offset), (ushort)(weak ? flags | VerFlgWeak : flags & ~VerFlgWeak));
        return offsets.Count;
    }

    /// <summary>
    /// Patches a file in place, atomically (written aside, then renamed), only when something changes.
    /// Returns how many needs were marked weak.
    /// </summary>
    public static int MarkWeakInFile(string path, IReadOnlySet<string> versions)
    {
        var image = File.ReadAllBytes(path);
        int changed = MarkWeak(image, versions);
        if (changed == 0) return 0;
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temp, image);
        File.Move(temp, path, overwrite: true);
        return changed;
    }

    delegate void NeedVisitor(string file, string name, ushort flags, int flagsOffset);

    // ELF64 layout: e_shoff at 0x28, e_shentsize at 0x3A, e_shnum at 0x3C. Section header: sh_type at +4,
    // sh_offset at +0x18, sh_link at +0x28. Verneed: vn_cnt +2, vn_file +4, vn_aux +8, vn_next +12.
    // Vernaux: vna_flags +4, vna_name +8, vna_next +12.
    static void Walk(ReadOnlySpan<byte> b, NeedVisitor visit)
    {
        if (b.Length < 0x40 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (b[4] != 2 || b[5] != 1) throw new InvalidDataException("only ELF64 little-endian is supported");
        long shoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(b[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(b[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(b[0x3C..]);
        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)(shoff + (long)i * shentsize));
            if (BinaryPrimitives.ReadUInt32LittleEndian(b[(sh + 4)..]) != ShtGnuVerneed) continue;
            int off = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(b[(sh + 0x18)..]));
            int link = (int)BinaryPrimitives.ReadUInt32LittleEndian(b[(sh + 0x28)..]);
            int strSh = checked((int)(shoff + (long)link * shentsize));
            int strOff = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(b[(strSh + 0x18)..]));
            int vn = off;
            while (true)
            {
                int count = BinaryPrimitives.ReadUInt16LittleEndian(b[(vn + 2)..]);
                string file = ReadString(b, strOff + (int)BinaryPrimitives.ReadUInt32LittleEndian(b[(vn + 4)..]));
                int aux = vn + (int)BinaryPrimitives.ReadUInt32LittleEndian(b[(vn + 8)..]);
                uint next = BinaryPrimitives.ReadUInt32LittleEndian(b[(vn + 12)..]);
                for (int k = 0; k < count; k++)
                {
                    ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(b[(aux + 4)..]);
                    string name = ReadString(b, strOff + (int)BinaryPrimitives.ReadUInt32LittleEndian(b[(aux + 8)..]));
                    visit(file, name, flags, aux + 4);
                    uint auxNext = BinaryPrimitives.ReadUInt32LittleEndian(b[(aux + 12)..]);
                    if (auxNext == 0) break;
                    aux += (int)auxNext;
                }
                if (next == 0) break;
                vn += (int)next;
            }
        }
    }

    static string ReadString(ReadOnlySpan<byte> b, int start)
    {
        int end = b[start..].IndexOf((byte)0);
        return Encoding.ASCII.GetString(b.Slice(start, end));
    }
}
