namespace ServerlessBackup.Storage;

/// <summary>
/// Where backups live: a flat space of keys ("/"-separated, see <see cref="StoreKeys"/>) holding
/// immutable objects. The contract every implementation passes (tests/…/StoreConformanceTests):
/// <list type="bullet">
/// <item>an object written through <see cref="OpenWriteAsync"/> is invisible until committed, then visible whole;</item>
/// <item><see cref="PutAsync"/> with <c>overwrite: false</c> is create-only and atomic;</item>
/// <item><see cref="ListAsync"/> returns committed objects under a prefix in ordinal key order, across pages;</item>
/// <item><see cref="DeleteAsync"/> is idempotent; <see cref="TryAcquireLockAsync"/> grants one holder at a time, across processes;</item>
/// <item>a store whose container does not exist yet reads as empty, and its first write creates it.</item>
/// </list>
/// </summary>
public interface IObjectStore
{
    /// <summary>Where the store is, for messages (never with credentials).</summary>
    string Description { get; }

    /// <summary>Creates the container or directory if missing. Idempotent.</summary>
    Task EnsureCreatedAsync(CancellationToken cancellationToken = default);

    /// <summary>Starts a streaming write of a new object. Memory stays bounded whatever is written.</summary>
    Task<ObjectWriter> OpenWriteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Writes a small object in one call.</summary>
    /// <returns>False when <paramref name="overwrite"/> is false and the object already exists (nothing was written).</returns>
    Task<bool> PutAsync(string key, ReadOnlyMemory<byte> content, bool overwrite, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default);

    /// <summary>Opens a committed object for sequential reading, streamed (not loaded into memory).</summary>
    /// <exception cref="Errors.SbkException">Kind NotFound when there is no such object.</exception>
    Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>The object's properties, or null when it does not exist.</summary>
    Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Committed objects whose keys start with <paramref name="prefix"/>, in ordinal key order.</summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object; true if it existed.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Takes the exclusive lock named <paramref name="key"/>, or returns null at once if another holder has it.</summary>
    Task<IStoreLock?> TryAcquireLockAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets or clears a legal hold on an object: while held, the store itself refuses to delete or
    /// overwrite it, whoever asks. Returns false when the store (or its container) has no legal
    /// holds: nothing changed, and the caller's own records are all that protect the object.
    /// </summary>
    Task<bool> TrySetLegalHoldAsync(string key, bool hold, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes what writes that never committed (a process killed mid-upload) left under
    /// <paramref name="prefix"/>, when older than <paramref name="olderThan"/>; returns how many.
    /// A blob store discards uncommitted blocks by itself (Azure: after a week) and returns 0.
    /// </summary>
    Task<int> SweepAbandonedWritesAsync(string prefix, TimeSpan olderThan, CancellationToken cancellationToken = default);
}
