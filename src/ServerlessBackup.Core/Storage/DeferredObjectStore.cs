using System.Runtime.CompilerServices;

namespace ServerlessBackup.Storage;

/// <summary>
/// A store made on first use: building the Azure store needs a secret (its connection string),
/// which must not be read while the host composes its services (a missing secret would stop the
/// host instead of failing the one operation that needs it, with a message saying so). A failed
/// creation is not remembered: the next call tries again.
/// </summary>
internal sealed class DeferredObjectStore(string description, Func<CancellationToken, Task<IObjectStore>> create) : IObjectStore
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private IObjectStore? inner;

    public string Description => description;

    private async ValueTask<IObjectStore> StoreAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref inner) is { } ready)
        {
            return ready;
        }

        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return inner ??= await create(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken).ConfigureAwait(false)).EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);

    public async Task<ObjectWriter> OpenWriteAsync(string key, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken).ConfigureAwait(false)).OpenWriteAsync(key, cancellationToken).ConfigureAwait(false);

    public async Task<bool> PutAsync(string key, ReadOnlyMemory<byte> content, bool overwrite, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken).ConfigureAwait(false)).PutAsync(key, content, overwrite, metadata, cancellationToken).ConfigureAwait(false);

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken).ConfigureAwait(false)).OpenReadAsync(key, cancellationToken).ConfigureAwait(false);

    public async Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken).ConfigureAwait(false)).GetInfoAsync(key, cancellationToken).ConfigureAwait(false);

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var store = await StoreAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var item in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken).ConfigureAwait(false)).DeleteAsync(key, cancellationToken).ConfigureAwait(false);

    public async Task<int> SweepAbandonedWritesAsync(string prefix, TimeSpan olderThan, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken).ConfigureAwait(false)).SweepAbandonedWritesAsync(prefix, olderThan, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<IStoreLock?> TryAcquireLockAsync(string key, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken).ConfigureAwait(false)).TryAcquireLockAsync(key, cancellationToken).ConfigureAwait(false);

    public async Task<bool> TrySetLegalHoldAsync(string key, bool hold, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken).ConfigureAwait(false)).TrySetLegalHoldAsync(key, hold, cancellationToken).ConfigureAwait(false);
}
