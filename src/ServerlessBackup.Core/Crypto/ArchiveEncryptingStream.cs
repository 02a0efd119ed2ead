using System.Buffers;
using System.Security.Cryptography;

namespace ServerlessBackup.Crypto;

/// <summary>
/// A write-only stream that writes the header, then the payload in authenticated chunks, to a
/// destination stream, and computes the SHA-256 and length of everything it writes. Call
/// <see cref="CompleteAsync"/> to write the final chunk; disposing without completing leaves an
/// object with no final chunk, which never decrypts as complete.
/// </summary>
public sealed class ArchiveEncryptingStream : Stream
{
    private readonly Stream destination;
    private readonly ChunkCipher cipher;
    private readonly int chunkSize;
    private readonly byte[] plain;
    private readonly byte[] sealedChunk;
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private int filled;
    private long chunkIndex;
    private bool headerWritten;
    private bool completed;
    private bool disposed;

    internal ArchiveEncryptingStream(Stream destination, ArchiveHeader header, ReadOnlySpan<byte> objectKey)
    {
        this.destination = destination;
        Header = header;
        chunkSize = header.ChunkSize;
        cipher = new ChunkCipher(objectKey, header.Hash);
        plain = ArrayPool<byte>.Shared.Rent(chunkSize);
        sealedChunk = ArrayPool<byte>.Shared.Rent(chunkSize + ChunkCipher.TagLength);
    }

    /// <summary>The header written first.</summary>
    public ArchiveHeader Header { get; }

    /// <summary>Plaintext bytes accepted so far.</summary>
    public long PlaintextLength { get; private set; }

    /// <summary>Bytes written to the destination so far (header and sealed chunks).</summary>
    public long CiphertextLength { get; private set; }

    /// <summary>SHA-256 of every byte written; available after <see cref="CompleteAsync"/>.</summary>
    public byte[]? CiphertextSha256 { get; private set; }

    /// <inheritdoc />
    public override bool CanRead => false;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => !completed && !disposed;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => PlaintextLength; set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (completed)
        {
            throw new InvalidOperationException("The archive was already completed.");
        }

        await EnsureHeaderAsync(cancellationToken).ConfigureAwait(false);
        while (!buffer.IsEmpty)
        {
            if (filled == chunkSize)
            {
                // More data follows, so the buffered chunk is not the final one.
                await SealAsync(final: false, cancellationToken).ConfigureAwait(false);
            }

            var take = Math.Min(buffer.Length, chunkSize - filled);
            buffer.Span[..take].CopyTo(plain.AsSpan(filled));
            filled += take;
            PlaintextLength += take;
            buffer = buffer[take..];
        }
    }

    /// <summary>Writes the final chunk and flushes. After this the object is complete.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (completed)
        {
            return;
        }

        await EnsureHeaderAsync(cancellationToken).ConfigureAwait(false);
        await SealAsync(final: true, cancellationToken).ConfigureAwait(false);
        await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
        completed = true;
        CiphertextSha256 = hash.GetHashAndReset();
    }

    /// <inheritdoc />
    public override void Flush()
    {
        // Chunks are sealed only when full or final; there is nothing to flush early.
    }

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    private async ValueTask EnsureHeaderAsync(CancellationToken cancellationToken)
    {
        if (headerWritten)
        {
            return;
        }

        await EmitAsync(Header.Bytes, cancellationToken).ConfigureAwait(false);
        headerWritten = true;
    }

    private async ValueTask SealAsync(bool final, CancellationToken cancellationToken)
    {
        var length = filled + ChunkCipher.TagLength;
        cipher.Encrypt(chunkIndex, final, plain.AsSpan(0, filled), sealedChunk.AsSpan(0, length));
        chunkIndex++;
        filled = 0;
        await EmitAsync(sealedChunk.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask EmitAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        hash.AppendData(bytes.Span);
        await destination.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        CiphertextLength += bytes.Length;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!disposed && disposing)
        {
            disposed = true;
            cipher.Dispose();
            hash.Dispose();
            CryptographicOperations.ZeroMemory(plain);
            ArrayPool<byte>.Shared.Return(plain);
            ArrayPool<byte>.Shared.Return(sealedChunk);
        }

        base.Dispose(disposing);
    }
}
