using Microsoft.Win32.SafeHandles;
using ServerlessBackup.Streams;

namespace ServerlessBackup.Restore;

/// <summary>
/// One table's part of an archive that is still landing, as an archive of its own for pg_restore's
/// standard input: the header and table of contents, then that table's data block, read from the
/// landing file as it arrives, ending with the block. pg_restore reading a pipe goes through the
/// blocks in the order they come and finds this one first, so it loads the table's rows while the
/// rest of them, and of the archive, are still arriving.
/// </summary>
internal sealed class LandedBlock : ReadOnlyStream
{
    private readonly SafeFileHandle file;
    private readonly long tocEnd;
    private readonly int dumpId;
    private readonly LandingWatch watch;
    private readonly long start;
    private long position;
    private bool inBlock;

    /// <param name="path">The landing file.</param>
    /// <param name="tocEnd">Where the table of contents ends in it.</param>
    /// <param name="dumpId">The entry whose block this carries.</param>
    /// <param name="start">Where that block starts (its header is in the file).</param>
    /// <param name="watch">What has landed.</param>
    public LandedBlock(string path, long tocEnd, int dumpId, long start, LandingWatch watch)
    {
        file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        this.tocEnd = tocEnd;
        this.dumpId = dumpId;
        this.watch = watch;
        this.start = start;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (!inBlock)
            {
                if (position < tocEnd)
                {
                    return await RandomAccess.ReadAsync(file, buffer[..(int)Math.Min(buffer.Length, tocEnd - position)], position, cancellationToken).ConfigureAwait(false) is var head and > 0
                        ? Advance(head)
                        : throw new EndOfStreamException("The landing file is shorter than its table of contents.");
                }

                inBlock = true;
                position = start;
            }

            var (limit, whole, changed) = watch.Look(dumpId);
            if (position < limit)
            {
                var n = await RandomAccess.ReadAsync(file, buffer[..(int)Math.Min(buffer.Length, limit - position)], position, cancellationToken).ConfigureAwait(false);
                return n > 0 ? Advance(n) : throw new EndOfStreamException("The landing file is shorter than what has landed.");
            }

            if (whole)
            {
                return 0;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private int Advance(int n)
    {
        position += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            file.Dispose();
        }

        base.Dispose(disposing);
    }
}
