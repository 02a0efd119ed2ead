namespace ServerlessBackup.Restore;

/// <summary>
/// Gathers the first bytes of a pg_dump custom-format archive, as they arrive, until its header and
/// table of contents can be read whole. A table of contents runs to a few MiB at most: past 64 MiB,
/// or at bytes <see cref="ArchiveOffsets.Reader"/> does not know, this is not an archive it reads.
/// </summary>
internal sealed class ArchiveHead
{
    private readonly MemoryStream bytes = new();

    /// <summary>What the bytes so far are.</summary>
    public enum Outcome
    {
        /// <summary>Not all of the table of contents yet.</summary>
        More,

        /// <summary>The header and table of contents have been read.</summary>
        Read,

        /// <summary>Not an archive this reads.</summary>
        Unknown,
    }

    /// <summary>Every byte gathered (valid until the next push).</summary>
    public ReadOnlySpan<byte> Bytes => bytes.GetBuffer().AsSpan(0, (int)bytes.Length);

    /// <summary>The table of contents, once read.</summary>
    public IReadOnlyList<ArchiveOffsets.TocEntry> Toc { get; private set; } = [];

    /// <summary>Where the table of contents ends (the first data block starts), once read.</summary>
    public long TocEnd { get; private set; }

    /// <summary>Bytes per integer in this archive, once read.</summary>
    public int IntSize { get; private set; }

    /// <summary>Bytes per data offset in this archive, once read.</summary>
    public int OffSize { get; private set; }

    /// <summary>Whether pg_dump compressed the data blocks, once read.</summary>
    public bool Compressed { get; private set; }

    /// <summary>Takes the next bytes and says whether the table of contents is whole.</summary>
    public Outcome Push(ReadOnlySpan<byte> data)
    {
        bytes.Write(data);
        bytes.Position = 0;
        try
        {
            var reader = new ArchiveOffsets.Reader(bytes);
            Toc = reader.ReadHeaderAndToc();
            TocEnd = reader.Position;
            IntSize = reader.IntSize;
            OffSize = reader.OffSize;
            Compressed = reader.Compressed;
            return Outcome.Read;
        }
        catch (EndOfStreamException)
        {
            return bytes.Length > 64L << 20 ? Outcome.Unknown : Outcome.More;
        }
        catch (InvalidDataException)
        {
            return Outcome.Unknown;
        }
        finally
        {
            bytes.Position = bytes.Length;
        }
    }
}
