namespace ServerlessBackup.Restore;

/// <summary>
/// Lands a pg_dump custom-format archive in a new owner-only file as it streams in, following it
/// with <see cref="ArchiveBlockScanner"/>: once a table's block is whole, its data offset is written
/// into the landed table of contents (pg_dump, writing to a pipe, could not), so that
/// <c>pg_restore -j</c> goes straight to each table instead of scanning the file from the top, and a
/// restore may start on that table while the rest is still arriving. Only the offset slots differ
/// from what arrived; an archive the scanner cannot follow lands exactly as it came.
/// </summary>
internal static class ArchiveLanding
{
    /// <summary>What landed.</summary>
    /// <param name="OffsetsFilled">Data offsets written into the table of contents.</param>
    /// <param name="Toc">The table of contents, or null for an archive the scanner could not follow.</param>
    public sealed record Landed(int OffsetsFilled, IReadOnlyList<ArchiveOffsets.TocEntry>? Toc);

    /// <summary>Copies <paramref name="source"/> into a new file at <paramref name="path"/>.</summary>
    /// <param name="source">Authenticated plaintext.</param>
    /// <param name="path">A path that must not exist yet.</param>
    /// <param name="onWritten">Called with the bytes written so far.</param>
    /// <param name="onToc">Called once the whole table of contents is in the file, with where it ends.</param>
    /// <param name="onBlockStart">Called with an entry's dump id and where its data block starts, once the block's header is in the file.</param>
    /// <param name="onBlock">Called with an entry's dump id and where its data block ends, once all of it is in the file and its offset written.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    public static async Task<Landed> LandAsync(Stream source, string path, Action<long>? onWritten, Action<IReadOnlyList<ArchiveOffsets.TocEntry>, long>? onToc, Action<int, long>? onBlockStart, Action<int, long>? onBlock, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.Read, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var file = new FileStream(path, options);
        var handle = file.SafeFileHandle;
        IReadOnlyList<ArchiveOffsets.TocEntry>? toc = null;
        var entries = new Dictionary<int, ArchiveOffsets.TocEntry>();
        var offSize = 8;
        var filled = 0;
        var scanner = new ArchiveBlockScanner(
            (all, size, tocEnd) =>
            {
                toc = all;
                offSize = size;
                foreach (var entry in all)
                {
                    entries.TryAdd(entry.DumpId, entry);
                }

                onToc?.Invoke(all, tocEnd);
            },
            (dumpId, start, end) =>
            {
                // Every byte the scanner has seen is already in the file.
                if (entries.TryGetValue(dumpId, out var entry) && entry.HasData)
                {
                    if (entry.Flag == ArchiveOffsets.OffsetNotSet)
                    {
                        RandomAccess.Write(handle, ArchiveOffsets.SlotBytes(start, offSize), entry.Slot);
                        filled++;
                    }

                    onBlock?.Invoke(dumpId, end);
                }
            },
            (dumpId, start) =>
            {
                if (entries.TryGetValue(dumpId, out var entry) && entry.HasData)
                {
                    onBlockStart?.Invoke(dumpId, start);
                }
            });

        var buffer = new byte[1 << 20];
        long written = 0;
        int n;
        while ((n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await RandomAccess.WriteAsync(handle, buffer.AsMemory(0, n), written, cancellationToken).ConfigureAwait(false);
            scanner.Push(buffer.AsSpan(0, n));
            written += n;
            onWritten?.Invoke(written);
        }

        return new Landed(filled, toc);
    }
}
