using System.Buffers;
using System.Security.Cryptography;
using ServerlessBackup.Errors;
using ServerlessBackup.Streams;

namespace ServerlessBackup.Crypto;

/// <summary>
/// A read-only stream of an object's plaintext. Each chunk is authenticated before any of its
/// bytes are returned; reordering, truncation, a missing final chunk, trailing bytes, splicing
/// and any flipped bit end the stream with an <see cref="IntegrityException"/>.
/// </summary>
public sealed class ArchiveDecryptingStream : ReadOnlyStream
{
    private readonly Stream source;
    private readonly ChunkCipher cipher;
    private readonly int storedChunk;
    private readonly byte[] stored;
    private readonly byte[] plain;
    private readonly string what;
    private int storedFilled;
    private int plainOffset;
    private int plainLength;
    private long chunkIndex;
    private bool finalSeen;
    private bool disposed;

    internal ArchiveDecryptingStream(Stream source, ArchiveHeader header, ReadOnlySpan<byte> objectKey, string what)
    {
        this.source = source;
        this.what = what;
        Header = header;
        cipher = new ChunkCipher(objectKey, header.Hash);
        storedChunk = header.ChunkSize + ChunkCipher.TagLength;
        // One byte more than a chunk: seeing it tells that the chunk before it is not the last.
        stored = ArrayPool<byte>.Shared.Rent(storedChunk + 1);
        plain = ArrayPool<byte>.Shared.Rent(header.ChunkSize);
    }

    /// <summary>The object's header.</summary>
    public ArchiveHeader Header { get; }

    /// <summary>Authenticated plaintext bytes returned so far.</summary>
    public long PlaintextPosition { get; private set; }

    /// <inheritdoc />
    public override bool CanRead => !disposed;

    /// <inheritdoc />
    public override long Position { get => PlaintextPosition; set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        while (plainOffset == plainLength)
        {
            if (finalSeen)
            {
                return 0;
            }

            await NextChunkAsync(cancellationToken).ConfigureAwait(false);
        }

        var take = Math.Min(buffer.Length, plainLength - plainOffset);
        plain.AsSpan(plainOffset, take).CopyTo(buffer.Span);
        plainOffset += take;
        PlaintextPosition += take;
        return take;
    }

    private async Task NextChunkAsync(CancellationToken cancellationToken)
    {
        var want = storedChunk + 1;
        while (storedFilled < want)
        {
            var n = await source.ReadAsync(stored.AsMemory(storedFilled, want - storedFilled), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            storedFilled += n;
        }

        // A full chunk plus at least one more byte: not the final chunk. Otherwise this is the last one.
        var final = storedFilled <= storedChunk;
        var length = final ? storedFilled : storedChunk;
        if (length < ChunkCipher.TagLength)
        {
            throw new IntegrityException(chunkIndex == 0 && length == 0
                ? $"{what} has a header but no data: it was truncated."
                : $"{what} ends without its final chunk (after chunk {chunkIndex - 1}): it was truncated.");
        }

        if (!cipher.TryDecrypt(chunkIndex, final, stored.AsSpan(0, length), plain))
        {
            throw new IntegrityException(
                $"{what}: chunk {chunkIndex} does not authenticate. The object was altered, truncated, reordered, extended, or mixed with another backup's data; no data from this chunk on was used.");
        }

        plainLength = length - ChunkCipher.TagLength;
        plainOffset = 0;
        chunkIndex++;
        finalSeen = final;
        if (!final)
        {
            stored[0] = stored[storedChunk];
            storedFilled = 1;
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!disposed && disposing)
        {
            disposed = true;
            cipher.Dispose();
            CryptographicOperations.ZeroMemory(plain);
            ArrayPool<byte>.Shared.Return(plain);
            ArrayPool<byte>.Shared.Return(stored);
            source.Dispose();
        }

        base.Dispose(disposing);
    }
}
