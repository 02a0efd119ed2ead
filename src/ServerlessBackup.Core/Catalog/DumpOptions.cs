namespace ServerlessBackup.Catalog;

/// <summary>How dumps are taken.</summary>
public sealed class DumpOptions
{
    /// <summary>A pg_dump to use. When empty, the newest found on PATH and under /usr/lib/postgresql/*/bin is used.</summary>
    public string? PgDumpPath { get; set; }

    /// <summary>How long pg_dump (and the census) wait for a table lock before failing. Default 60 s.</summary>
    public int LockWaitTimeoutSeconds { get; set; } = 60;

    /// <summary>Who compresses. Default Parallel.</summary>
    public CompressionMode Compression { get; set; } = CompressionMode.Parallel;

    /// <summary>Compression level 1-9 (gzip). Default 3, chosen by measurement (docs/performance.md).</summary>
    public int CompressionLevel { get; set; } = 3;

    /// <summary>Plaintext bytes per encrypted chunk, in KiB. Default 1024.</summary>
    public int ChunkSizeKiB { get; set; } = 1024;
}
