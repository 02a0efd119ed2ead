namespace ServerlessBackup.Catalog;

/// <summary>Where backups go.</summary>
public sealed class StoreOptions
{
    /// <summary>FileSystem (default) or AzureBlob.</summary>
    public StoreKind Kind { get; set; } = StoreKind.FileSystem;

    /// <summary>FileSystem: the directory (relative paths are relative to the configuration file).</summary>
    public string Path { get; set; } = ".sbk/store";

    /// <summary>AzureBlob: the container. Default <c>backups</c>.</summary>
    public string Container { get; set; } = "backups";

    /// <summary>AzureBlob: name of the secret holding a storage connection string (account key or SAS).</summary>
    public string? ConnectionStringSecret { get; set; }

    /// <summary>AzureBlob: the blob endpoint, used with Entra ID (DefaultAzureCredential) when no connection string secret is named.</summary>
    public Uri? ServiceUri { get; set; }

    /// <summary>AzureBlob: block size in MiB. Default 4 (with MaxConcurrency 4, at most 5 blocks are buffered; an archive can reach 50,000 blocks, 195 GiB).</summary>
    public int BlockSizeMiB { get; set; } = 4;

    /// <summary>AzureBlob: blocks uploaded or ranges downloaded at once. Default 4.</summary>
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>
    /// AzureBlob: days a new backup's archive is immutable after it is written (a per-backup
    /// time-based policy; the container needs version-level immutability). Default 0: only the
    /// account's default policy, if any. Retention never deletes an immutable backup.
    /// </summary>
    public int ImmutabilityDays { get; set; }
}
