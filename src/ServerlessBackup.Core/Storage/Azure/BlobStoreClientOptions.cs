using Azure.Core;

namespace ServerlessBackup.Storage.Azure;

/// <summary>Options of <see cref="BlobStoreClient"/>. Retries, timeouts, logging and transport come from <see cref="ClientOptions"/>.</summary>
public sealed class BlobStoreClientOptions : ClientOptions
{
    /// <summary>The Blob REST API version sent as <c>x-ms-version</c>. Default 2023-11-03.</summary>
    public string ServiceVersion { get; set; } = "2023-11-03";

    /// <summary>Size of each staged block in bytes. Default 8 MiB (50,000 blocks allow 400 GiB per backup).</summary>
    public int BlockSize { get; set; } = 8 * 1024 * 1024;

    /// <summary>Blocks staged or ranges downloaded concurrently per object. Default 4.</summary>
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>Blobs asked for per List Blobs page. Default 5000 (the service's maximum).</summary>
    public int ListPageSize { get; set; } = 5000;

    /// <summary>Size of each ranged read when downloading. Default 8 MiB.</summary>
    public int DownloadRangeSize { get; set; } = 8 * 1024 * 1024;
}
