using Microsoft.Win32.SafeHandles;
using ServerlessBackup.Streams;

namespace ServerlessBackup.Restore;

/// <summary>
/// What has landed of an archive so far: how many bytes are in the file, and where each data block
/// that is whole ends. Readers wait on it for more; the landing tells it of every write.
/// </summary>
internal sealed class LandingWatch
{
    private readonly Dictionary<int, long> ends = [];
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long landed;
    private bool done;

    /// <summary>Bytes now in the file.</summary>
    public void Landed(long bytes) => Change(() => landed = bytes);

    /// <summary>The block of <paramref name="dumpId"/> is whole and ends at <paramref name="end"/>.</summary>
    public void Ended(int dumpId, long end) => Change(() => ends[dumpId] = end);

    /// <summary>Whether the block of <paramref name="dumpId"/> is whole in the file.</summary>
    public bool IsWhole(int dumpId)
    {
        lock (ends)
        {
            return ends.ContainsKey(dumpId);
        }
    }

    /// <summary>Everything has landed: a block whose end was not found will not be whole.</summary>
    public void Done() => Change(() => done = true);

    /// <summary>How far the block of <paramref name="dumpId"/> may be read now, whether that is its end, and a task that completes at the next change.</summary>
    public (long Limit, bool Whole, Task Changed) Look(int dumpId)
    {
        lock (ends)
        {
            if (ends.TryGetValue(dumpId, out var end))
            {
                return (end, true, changed.Task);
            }

            return done
                ? throw new InvalidDataException($"The end of the data block of entry {dumpId} was not found in the landed archive.")
                : (landed, false, changed.Task);
        }
    }

    private void Change(Action change)
    {
        TaskCompletionSource done;
        lock (ends)
        {
            change();
            done = changed;
            changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        done.TrySetResult();
    }
}

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
        Start = start;
    }

    /// <summary>Where the block starts in the landing file.</summary>
    public long Start { get; }

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
                position = Start;
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
