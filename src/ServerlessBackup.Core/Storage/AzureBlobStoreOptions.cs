namespace ServerlessBackup.Storage;

/// <summary>How <see cref="AzureBlobObjectStore"/> moves data (retries, timeouts and authentication are the Azure SDK's <c>BlobClientOptions</c>).</summary>
public sealed record AzureBlobStoreOptions
{
    /// <summary>Size of each staged block in bytes. Default 4 MiB (50,000 blocks allow 195 GiB per object).</summary>
    public int BlockSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Blocks staged or ranges downloaded at once per object (memory ≈ size × (concurrency + 1)). Default 4.</summary>
    public int MaxConcurrency { get; init; } = 4;

    /// <summary>Size of each ranged read. Default 4 MiB.</summary>
    public int DownloadRangeSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Whether the container client signs with a connection string's key or SAS (true) or as an Entra ID identity (false): error messages name the right thing to check.</summary>
    public bool SignsWithConnectionString { get; init; }

    /// <summary>
    /// Seconds a lock's lease lasts (15-60, Azure's bounds; default 30). The holder renews it every
    /// third of that; a holder that dies leaves it to expire, and a holder that cannot renew it
    /// knows within a third of it that the lock is lost.
    /// </summary>
    public int LeaseSeconds { get; init; } = 30;

    /// <summary>Blobs asked for per listing page; null: the service's default (5,000).</summary>
    public int? ListPageSize { get; init; }

    /// <summary>
    /// Days every object written through <see cref="IObjectStore.OpenWriteAsync"/> (archives) is
    /// immutable after its commit, when the container has version-level immutability; 0: none
    /// beyond the container's default policy.
    /// </summary>
    public int ImmutabilityDays { get; init; }
}
