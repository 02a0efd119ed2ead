namespace ServerlessBackup.Storage;

/// <summary>
/// A write-only stream that becomes an object only when <see cref="CommitAsync"/> succeeds.
/// Disposing without committing discards everything written: no reader ever sees a partial object.
/// </summary>
public abstract class ObjectWriter : Stream
{
    /// <summary>Makes everything written visible as one object, atomically, with <paramref name="metadata"/>.</summary>
    /// <exception cref="Errors.SbkException">The object already exists (kind Failed) or the store failed.</exception>
    public abstract Task<ObjectInfo> CommitAsync(IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default);

    /// <inheritdoc />
    public sealed override bool CanRead => false;

    /// <inheritdoc />
    public sealed override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public sealed override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public sealed override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public sealed override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public sealed override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public abstract override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default);

    /// <inheritdoc />
    public override void Flush()
    {
    }
}
