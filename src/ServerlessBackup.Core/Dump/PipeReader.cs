using System.IO.Pipes;
using System.Runtime.InteropServices;
using ServerlessBackup.Streams;

namespace ServerlessBackup.Dump;

/// <summary>
/// Reads a child's standard output in large pieces. pg_dump writes its archive 4 KiB at a time, and
/// a reader that is always ready is woken for every one of them: about 270,000 wake-ups per GiB,
/// several CPU seconds on both sides. On Linux the pipe is widened to 1 MiB, and after a read that
/// did not fill half the buffer the next one waits a millisecond, so that what pg_dump wrote in the
/// meantime is taken in one read (pg_dump never waits: a millisecond is far less than the pipe
/// holds). Where the pipe cannot be widened, reads are passed through as they are.
/// </summary>
internal sealed partial class PipeReader : ReadOnlyStream
{
    private const int PipeBytes = 1 << 20;
    private readonly Stream inner;
    private readonly byte[] own = new byte[1 << 20];
    private Task<int>? pending;
    private bool wait;

    private PipeReader(Stream inner) => this.inner = inner;

    /// <summary><paramref name="output"/>, read in large pieces when its pipe can be widened; otherwise itself.</summary>
    public static Stream Over(Stream output) => TryWiden(output) ? new PipeReader(output) : output;

    /// <summary>The millisecond reads wait, after a short one.</summary>
    internal static TimeSpan Pause { get; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Widens <paramref name="pipe"/> (either end) to 1 MiB where the system allows it (Linux); whether it did.</summary>
    internal static bool TryWiden(Stream pipe)
    {
        if (!OperatingSystem.IsLinux() || pipe is not PipeStream pipeStream)
        {
            return false;
        }

        const int SetPipeSize = 1031; // F_SETPIPE_SZ
        var handle = pipeStream.SafePipeHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return Fcntl(handle.DangerousGetHandle(), SetPipeSize, PipeBytes) >= PipeBytes;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(nint fd, int command, int argument);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // A blocking read on a thread of its own, into a buffer of its own: the pipe never joins the
        // async engine's epoll set (which would wake for every 4 KiB written, read or not), and a read
        // left behind by a cancellation writes into nothing the caller still holds; pg_dump's exit
        // (the caller kills it) ends such a read.
        var size = Math.Min(own.Length, buffer.Length);
        pending ??= Task.Factory.StartNew(() =>
        {
            if (wait)
            {
                Thread.Sleep(Pause);
            }

            return inner.Read(own, 0, size);
        }, CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
        var n = await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        pending = null;
        own.AsSpan(0, Math.Min(n, buffer.Length)).CopyTo(buffer.Span);
        wait = n > 0 && n < size / 2;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
