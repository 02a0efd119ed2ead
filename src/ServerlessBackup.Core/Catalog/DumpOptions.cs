namespace ServerlessBackup.Catalog;

/// <summary>How dumps are taken.</summary>
public sealed class DumpOptions
{
    /// <summary>A pg_dump to use. When empty, the newest found on PATH and under /usr/lib/postgresql/*/bin is used.</summary>
    public string? PgDumpPath { get; set; }

    /// <summary>How long pg_dump (and the census) wait for a table lock before failing. Default 60 s.</summary>
    public int LockWaitTimeoutSeconds { get; set; } = 60;

    /// <summary>Who compresses. Default Parallel.</summary>
    public CompressionMode Compression { get; set; } = CompressionMode.Zstd;

    /// <summary>
    /// Compression level: zstd 1-19 (default 1), gzip (Parallel) 1-9 (default 3); the defaults were
    /// chosen by measurement (docs/performance.md).
    /// </summary>
    public int? CompressionLevel { get; set; }

    /// <summary>The level in effect: the configured one, or the mode's default.</summary>
    public int EffectiveCompressionLevel => CompressionLevel ?? (Compression == CompressionMode.Zstd ? 1 : 3);

    /// <summary>Plaintext bytes per encrypted chunk, in KiB. Default 1024.</summary>
    public int ChunkSizeKiB { get; set; } = 1024;
}
