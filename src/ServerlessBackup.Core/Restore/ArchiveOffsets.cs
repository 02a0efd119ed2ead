using System.Buffers.Binary;

namespace ServerlessBackup.Restore;

/// <summary>
/// The parts of pg_dump's custom format sbk reads: the header and the table of contents (each
/// entry's dump id, section, whether it has data, and its data-offset slot), block types, and the
/// slot bytes that say where an entry's data starts. pg_dump leaves every slot unset when it
/// writes to a pipe, so pg_restore's parallel workers would each scan the file from the start;
/// <see cref="ArchiveLanding"/> fills them in as the archive lands. Versions 1.12 to 1.16 only: any
/// other archive is left exactly as it came, and still restores.
/// </summary>
internal static class ArchiveOffsets
{
    private const int FormatCustom = 1;
    internal const byte OffsetNotSet = 1;
    internal const byte OffsetSet = 2;
    internal const byte BlockData = 1;
    internal const byte BlockBlobs = 3;

    /// <summary>pg_dump's section numbers (pg_backup_archiver.h): entries of section "none" belong to the section before them.</summary>
    internal const int SectionData = 3;

    /// <summary>One entry of an archive's table of contents: its dump id, where its data-offset slot is (flag byte, then the offset), whether it has a data block, and its section.</summary>
    internal readonly record struct TocEntry(int DumpId, long Slot, byte Flag, bool HasData, int Section);

    /// <summary>The slot bytes that say "this entry's data starts at <paramref name="offset"/>" in an archive with <paramref name="offSize"/>-byte offsets.</summary>
    internal static byte[] SlotBytes(long offset, int offSize)
    {
        var slot = new byte[1 + offSize];
        slot[0] = OffsetSet;
        Span<byte> full = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(full, offset);
        full[..offSize].CopyTo(slot.AsSpan(1));
        return slot;
    }

    /// <summary>The data offset each entry of the archive's table of contents gives (null: not set), by dump id; empty for an archive this does not understand.</summary>
    public static IReadOnlyDictionary<int, long?> Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            var reader = new Reader(file);
            var result = new Dictionary<int, long?>();
            Span<byte> offset = stackalloc byte[8];
            foreach (var (dumpId, slot, flag, _, _) in reader.ReadHeaderAndToc())
            {
                file.Position = slot + 1;
                offset.Clear();
                file.ReadExactly(offset[..reader.OffSize]);
                result[dumpId] = flag == OffsetSet ? BinaryPrimitives.ReadInt64LittleEndian(offset) : null;
            }

            return result;
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            return new Dictionary<int, long?>();
        }
    }

    /// <summary>
    /// pg_dump's archive primitives: a byte, an int (sign byte, then intSize little-endian bytes), a
    /// string (an int length, -1 for NULL, then the bytes). Reads through a buffer of its own: a
    /// dump pg_dump wrote uncompressed has one data chunk per row, millions of them, and each is a
    /// length and a skip that must not cost a system call.
    /// </summary>
    internal sealed class Reader(Stream file)
    {
        private readonly byte[] buffer = new byte[1 << 20];
        private readonly long length = file.Length;
        private long bufferStart = file.Position;
        private int pos;
        private int filled;
        private int intSize = 4;
        private int version;

        public int OffSize { get; private set; } = 8;

        /// <summary>Whether pg_dump compressed the data blocks (read with the header).</summary>
        public bool Compressed { get; private set; }

        /// <summary>Bytes per integer in this archive (after the header).</summary>
        public int IntSize => intSize;

        /// <summary>Where the next byte is read from, in the file.</summary>
        public long Position => bufferStart + pos;

        public byte Byte()
        {
            if (pos == filled)
            {
                bufferStart += filled;
                pos = 0;
                file.Position = bufferStart;
                filled = file.Read(buffer);
                if (filled == 0)
                {
                    throw new EndOfStreamException();
                }
            }

            return buffer[pos++];
        }

        public int Int()
        {
            var negative = Byte() != 0;
            long value = 0;
            for (var i = 0; i < intSize; i++)
            {
                value |= (long)Byte() << (8 * i);
            }

            if (value > int.MaxValue)
            {
                throw new InvalidDataException("An integer out of range.");
            }

            return negative ? -(int)value : (int)value;
        }

        public void Str()
        {
            var size = Int();
            if (size > 0)
            {
                Skip(size);
            }
        }

        private void Skip(long count)
        {
            if (Position + count > length)
            {
                throw new EndOfStreamException();
            }

            if (pos + count <= filled)
            {
                pos += (int)count;
                return;
            }

            bufferStart = Position + count;
            pos = filled = 0;
        }

        public void ReadExactly(Span<byte> destination)
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = Byte();
            }
        }

        private bool AtLeast(int minor) => version >= ((1 << 16) | (minor << 8));

        /// <summary>Reads the header and the table of contents; returns each entry's dump id, where its offset slot is, and its flag.</summary>
        public List<TocEntry> ReadHeaderAndToc()
        {
            Span<byte> magic = stackalloc byte[5];
            ReadExactly(magic);
            if (!magic.SequenceEqual("PGDMP"u8))
            {
                throw new InvalidDataException("Not a pg_dump archive.");
            }

            version = (Byte() << 16) | (Byte() << 8) | Byte();
            if (version < ((1 << 16) | (12 << 8)) || version >= ((1 << 16) | (17 << 8)))
            {
                throw new InvalidDataException("An archive version this does not know.");
            }

            intSize = Byte();
            OffSize = Byte();
            if (intSize is < 1 or > 8 || OffSize is < 1 or > 8 || Byte() != FormatCustom)
            {
                throw new InvalidDataException("Not a custom-format archive.");
            }

            // The compression algorithm (1.15 on) or level (before): 0 is none.
            Compressed = AtLeast(15) ? Byte() != 0 : Int() != 0;

            for (var i = 0; i < 7; i++)
            {
                Int(); // creation time
            }

            Str(); // database name
            Str(); // server version
            Str(); // pg_dump version

            var count = Int();
            var entries = new List<TocEntry>(Math.Max(0, count));
            for (var i = 0; i < count; i++)
            {
                var dumpId = Int();
                var hadDumper = Int() != 0;
                Str(); // table oid
                Str(); // oid
                Str(); // tag
                Str(); // desc
                var section = Int();
                Str(); // definition
                Str(); // drop statement
                Str(); // copy statement
                Str(); // namespace
                Str(); // tablespace
                if (AtLeast(14))
                {
                    Str(); // table access method
                }

                if (AtLeast(16))
                {
                    Int(); // relkind
                }

                Str(); // owner
                Str(); // "with oids", always false
                while (Int() is var length and >= 0)
                {
                    Skip(length); // a dependency
                }

                var slot = Position;
                var flag = Byte();
                Skip(OffSize);
                entries.Add(new TocEntry(dumpId, slot, flag, hadDumper, section));
            }

            return entries;
        }
    }
}
