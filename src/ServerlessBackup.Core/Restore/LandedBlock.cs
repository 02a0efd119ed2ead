using System.IO.Pipes;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using ServerlessBackup.Streams;

namespace ServerlessBackup.Restore;

/// <summary>
/// One table's part of an archive that is still landing, as an archive of its own for pg_restore's
/// standard input: the header and table of contents, then that table's data block, read from the
/// landing file as it arrives, ending with the block. pg_restore reading a pipe goes through the
/// blocks in the order they come and finds this one first, so it loads the table's rows while the
/// rest of them, and of the archive, are still arriving. Into a pipe on Linux it is moved by the
/// kernel (<see cref="SpliceIntoAsync"/>): the landed pages go into the pipe without being copied
/// through sbk.
/// </summary>
internal sealed partial class LandedBlock : ReadOnlyStream
{
    private const int SpliceMove = 1; // SPLICE_F_MOVE
    private const int SpliceNonBlock = 2; // SPLICE_F_NONBLOCK
    private const int Interrupted = 4; // EINTR
    private const int BrokenPipe = 32; // EPIPE
    private const int WouldBlock = 11; // EAGAIN
    private const short PollOut = 4; // POLLOUT
    private const int SpliceBytes = 1 << 20;

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
            var (limit, changed) = Next();
            if (position < limit)
            {
                var n = await RandomAccess.ReadAsync(file, buffer[..(int)Math.Min(buffer.Length, limit - position)], position, cancellationToken).ConfigureAwait(false);
                return n > 0 ? Advance(n) : throw ShorterThanLanded();
            }

            if (changed is null)
            {
                return 0;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Bytes moved into a pipe by the kernel rather than copied through sbk.</summary>
    public long Spliced { get; private set; }

    /// <summary>
    /// Moves the rest of this part into <paramref name="pipe"/> with splice(2), on a thread of its
    /// own that waits while the pipe is full (while pg_restore's COPY catches up), a tenth of a
    /// second at a time, so that a cancellation ends it even when pg_restore never reads again.
    /// False, with nothing moved by this call, where the system cannot (not Linux, or a file system
    /// without splice): the caller then copies it with <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>,
    /// which goes on from where this stopped. A reader that went away is an <see cref="IOException"/>,
    /// as for a write.
    /// </summary>
    public Task<bool> SpliceIntoAsync(PipeStream pipe, CancellationToken cancellationToken) =>
        OperatingSystem.IsLinux()
            ? Task.Factory.StartNew(() => SpliceInto(pipe.SafePipeHandle, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            : Task.FromResult(false);

    /// <summary>
    /// Where this part may be read to from <see cref="position"/> now: the end of the header and
    /// table of contents, then (the block's start once they are read) how far the block has landed.
    /// At that limit, <c>Changed</c> completes when more lands; null when the part has ended.
    /// </summary>
    private (long Limit, Task? Changed) Next()
    {
        if (!inBlock)
        {
            if (position < tocEnd)
            {
                return (tocEnd, null);
            }

            inBlock = true;
            position = start;
        }

        var (limit, whole, changed) = watch.Look(dumpId);
        return (limit, whole ? null : changed);
    }

    private static EndOfStreamException ShorterThanLanded() => new("The landing file is shorter than what has landed.");

    private bool SpliceInto(SafePipeHandle pipe, CancellationToken cancellationToken)
    {
        var addedFile = false;
        var addedPipe = false;
        try
        {
            file.DangerousAddRef(ref addedFile);
            pipe.DangerousAddRef(ref addedPipe);
            var from = (int)file.DangerousGetHandle();
            var to = (int)pipe.DangerousGetHandle();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (limit, changed) = Next();
                if (position >= limit)
                {
                    if (changed is null)
                    {
                        return true;
                    }

                    changed.Wait(cancellationToken);
                    continue;
                }

                var offset = position;
                var n = Splice(from, ref offset, to, 0, (nuint)Math.Min(SpliceBytes, limit - position), SpliceMove | SpliceNonBlock);
                if (n > 0)
                {
                    Spliced += n;
                    position = offset;
                    continue;
                }

                if (n == 0)
                {
                    throw ShorterThanLanded();
                }

                var error = Marshal.GetLastPInvokeError();
                if (error == Interrupted)
                {
                    continue;
                }

                if (error == WouldBlock)
                {
                    // The pipe is full: wait until pg_restore reads, looking at the cancellation now and then.
                    var wait = new PollFd { Fd = to, Events = PollOut };
                    Poll(ref wait, 1, 100);
                    continue;
                }

                if (error == BrokenPipe)
                {
                    throw new IOException("pg_restore stopped reading its input.");
                }

                if (Spliced == 0)
                {
                    // This system cannot splice from this file: copy instead.
                    return false;
                }

                throw new IOException($"Could not move the landed archive into pg_restore's input: {Marshal.GetPInvokeErrorMessage(error)}.");
            }
        }
        finally
        {
            if (addedPipe)
            {
                pipe.DangerousRelease();
            }

            if (addedFile)
            {
                file.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    private static partial nint Splice(int fromFd, ref long fromOffset, int toFd, nint toOffset, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(ref PollFd fds, nuint count, int timeoutMilliseconds);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
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
