using System.Buffers.Binary;

namespace ServerlessBackup.Restore;

/// <summary>
/// Fills in the data offsets of a pg_dump custom-format archive that was written to a pipe. pg_dump
/// leaves every table's "where is my data" slot in the table of contents unset when it cannot seek
/// back, so pg_restore's parallel workers each scan the file from the start to find their table;
/// once sbk has landed the archive in a file, it finds each data block itself and writes the
/// offsets in, and <c>pg_restore -j</c> goes straight to them, as with a dump written by
/// <c>pg_dump -f</c>. Only the offset slots change, in place; an archive this does not understand
/// (a version before 1.12 or after 1.16, another format) is left exactly as it was, and still restores.
/// </summary>
internal static class ArchiveOffsets
{
    private const int FormatCustom = 1;
    private const byte OffsetNotSet = 1;
    private const byte OffsetSet = 2;
    private const byte BlockData = 1;
    private const byte BlockBlobs = 3;

    /// <summary>Fills the unset offsets of the archive at <paramref name="path"/>; returns how many were set (0 when none were missing or the archive is not one this understands).</summary>
    public static int FillIn(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        Reader reader;
        List<(int DumpId, long Slot, byte Flag)> entries;
        try
        {
            reader = new Reader(file);
            entries = reader.ReadHeaderAndToc();
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            return 0;
        }

        if (!entries.Any(e => e.Flag == OffsetNotSet))
        {
            return 0;
        }

        // The data section follows the table of contents: blocks of (type, dump id, chunks).
        var found = new Dictionary<int, long>();
        try
        {
            while (file.Position < file.Length)
            {
                var start = file.Position;
                var type = reader.Byte();
                var dumpId = reader.Int();
                if (type == BlockData)
                {
                    reader.SkipChunks();
                }
                else if (type == BlockBlobs)
                {
                    while (reader.Int() != 0)
                    {
                        reader.SkipChunks();
                    }
                }
                else
                {
                    break;
                }

                found.TryAdd(dumpId, start);
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            // A truncated or unexpected tail: set what was found before it.
        }

        var set = 0;
        Span<byte> slot = stackalloc byte[1 + 8];
        foreach (var (dumpId, position, flag) in entries)
        {
            if (flag != OffsetNotSet || !found.TryGetValue(dumpId, out var offset))
            {
                continue;
            }

            slot[0] = OffsetSet;
            BinaryPrimitives.WriteInt64LittleEndian(slot[1..], offset);
            file.Position = position;
            file.Write(slot[..(1 + reader.OffSize)]);
            set++;
        }

        file.Flush();
        return set;
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
            foreach (var (dumpId, slot, flag) in reader.ReadHeaderAndToc())
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

    /// <summary>pg_dump's archive primitives: a byte, an int (sign byte, then intSize little-endian bytes), a string (an int length, -1 for NULL, then the bytes).</summary>
    private sealed class Reader(FileStream file)
    {
        private int intSize = 4;
        private int version;

        public int OffSize { get; private set; } = 8;

        public byte Byte() => file.ReadByte() is var b and >= 0 ? (byte)b : throw new EndOfStreamException();

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
            var length = Int();
            if (length > 0)
            {
                Skip(length);
            }
        }

        public void SkipChunks()
        {
            int length;
            while ((length = Int()) != 0)
            {
                Skip(Math.Abs(length));
            }
        }

        private void Skip(long count)
        {
            if (file.Position + count > file.Length)
            {
                throw new EndOfStreamException();
            }

            file.Seek(count, SeekOrigin.Current);
        }

        private bool AtLeast(int minor) => version >= ((1 << 16) | (minor << 8));

        /// <summary>Reads the header and the table of contents; returns each entry's dump id, where its offset slot is, and its flag.</summary>
        public List<(int DumpId, long Slot, byte Flag)> ReadHeaderAndToc()
        {
            Span<byte> magic = stackalloc byte[5];
            file.ReadExactly(magic);
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

            if (AtLeast(15))
            {
                Byte(); // compression algorithm
            }
            else
            {
                Int(); // compression level
            }

            for (var i = 0; i < 7; i++)
            {
                Int(); // creation time
            }

            Str(); // database name
            Str(); // server version
            Str(); // pg_dump version

            var count = Int();
            var entries = new List<(int, long, byte)>(Math.Max(0, count));
            for (var i = 0; i < count; i++)
            {
                var dumpId = Int();
                Int(); // had a data dumper
                Str(); // table oid
                Str(); // oid
                Str(); // tag
                Str(); // desc
                Int(); // section
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

                var slot = file.Position;
                var flag = Byte();
                Skip(OffSize);
                entries.Add((dumpId, slot, flag));
            }

            return entries;
        }
    }
}
