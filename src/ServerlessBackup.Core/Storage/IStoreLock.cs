namespace ServerlessBackup.Storage;

/// <summary>
/// An exclusive lock on a key, held until disposed (a blob lease renewed in the background, or
/// an OS file lock). If the store can no longer guarantee the lock, <see cref="Lost"/> is cancelled.
/// </summary>
public interface IStoreLock : IAsyncDisposable
{
    /// <summary>Cancelled when the lock can no longer be guaranteed; work under the lock should stop.</summary>
    CancellationToken Lost { get; }
}
