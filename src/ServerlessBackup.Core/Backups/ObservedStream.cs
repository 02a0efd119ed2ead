using System.Diagnostics;
using System.Security.Cryptography;
using ServerlessBackup.Errors;
using ServerlessBackup.Streams;

namespace ServerlessBackup.Backups;

/// <summary>
/// A read-only pass-through that counts bytes, keeps the first few, optionally hashes, reports
/// progress, and adds up the time spent inside the inner stream's reads (how a streamed pipeline
/// splits its wall time into download and decrypt). With <paramref name="what"/>, a decompression
/// failure of authenticated data becomes an <see cref="IntegrityException"/> naming it.
/// </summary>
internal sealed class ObservedStream(Stream inner, Action<long>? onRead = null, bool hash = false, string? what = null) : ReadOnlyStream
{
    private readonly IncrementalHash? sha = hash ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
    private readonly byte[] head = new byte[8];
    private long ticks;

    public long BytesRead { get; private set; }

    /// <summary>Time spent inside reads of the inner stream.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, ticks);

    /// <summary>The first bytes read (up to 8).</summary>
    public ReadOnlySpan<byte> Head => head.AsSpan(0, (int)Math.Min(BytesRead, head.Length));

    public byte[] Sha256() => sha?.GetCurrentHash() ?? throw new InvalidOperationException("Not hashing.");

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return Observe(buffer, inner.Read(buffer));
        }
        catch (InvalidDataException ex) when (what is not null)
        {
            throw Undecompressable(ex);
        }
        finally
        {
            ticks += Stopwatch.GetTimestamp() - start;
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            return Observe(buffer.Span, n);
        }
        catch (InvalidDataException ex) when (what is not null)
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

    private int Observe(ReadOnlySpan<byte> buffer, int n)
    {
        if (n > 0)
        {
            if (BytesRead < head.Length)
            {
                var take = (int)Math.Min(n, head.Length - BytesRead);
                buffer[..take].CopyTo(head.AsSpan((int)BytesRead));
            }

            sha?.AppendData(buffer[..n]);
            BytesRead += n;
            onRead?.Invoke(BytesRead);
        }

        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            sha?.Dispose();
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
