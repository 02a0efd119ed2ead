using ServerlessBackup.Storage;

namespace ServerlessBackup.Tests.Infrastructure;

/// <summary>A real store with something layered on: every call goes to <paramref name="inner"/> unless a subclass changes it.</summary>
internal abstract class DelegatingStore(IObjectStore inner) : IObjectStore
{
    protected IObjectStore Inner => inner;

    public string Description => inner.Description;

    public virtual Task EnsureCreatedAsync(CancellationToken cancellationToken = default) => inner.EnsureCreatedAsync(cancellationToken);

    public virtual Task<ObjectWriter> OpenWriteAsync(string key, CancellationToken cancellationToken = default) => inner.OpenWriteAsync(key, cancellationToken);

    public virtual Task<bool> PutAsync(string key, ReadOnlyMemory<byte> content, bool overwrite, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default) =>
        inner.PutAsync(key, content, overwrite, metadata, cancellationToken);

    public virtual Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) => inner.OpenReadAsync(key, cancellationToken);

    public virtual Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) => inner.GetInfoAsync(key, cancellationToken);

    public virtual IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public virtual Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

    public virtual Task<IStoreLock?> TryAcquireLockAsync(string key, CancellationToken cancellationToken = default) => inner.TryAcquireLockAsync(key, cancellationToken);

    public virtual Task<bool> TrySetLegalHoldAsync(string key, bool hold, CancellationToken cancellationToken = default) => inner.TrySetLegalHoldAsync(key, hold, cancellationToken);

    public virtual Task<int> SweepAbandonedWritesAsync(string prefix, TimeSpan olderThan, CancellationToken cancellationToken = default) => inner.SweepAbandonedWritesAsync(prefix, olderThan, cancellationToken);
}
