using System.Diagnostics;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Backups;

/// <summary>
/// A read-only pass-through that adds up the time spent inside the inner stream's reads (how a
/// streamed pipeline splits its wall time into download and decrypt), and turns a decompression
/// failure of authenticated data into an <see cref="IntegrityException"/> naming <paramref name="what"/>.
/// </summary>
internal sealed class TimedStream(Stream inner, string what) : Stream
{
    private long ticks;

    /// <summary>Time spent inside reads of the inner stream.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, ticks);

    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            var n = inner.Read(buffer);
            BytesRead += n;
            return n;
        }
        catch (InvalidDataException ex)
        {
            throw Undecompressable(ex);
        }
        finally
        {
            ticks += Stopwatch.GetTimestamp() - start;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            BytesRead += n;
            return n;
        }
        catch (InvalidDataException ex)
        {
            throw Undecompressable(ex);
        }
        finally
        {
            ticks += Stopwatch.GetTimestamp() - start;
        }
    }

    // Authenticated data that does not decompress was written by a faulty sbk, not by an attacker.
    private IntegrityException Undecompressable(InvalidDataException ex) =>
        new($"{what} authenticated but does not decompress; it was written wrongly. Report this with the backup id.", ex);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
