namespace ServerlessBackup.Catalog;

/// <summary>Who compresses the dump.</summary>
public enum CompressionMode
{
    /// <summary>pg_dump writes uncompressed (-Z0); the engine compresses blocks with gzip on every core (the default before zstd).</summary>
    Parallel,
    /// <summary>pg_dump compresses on one core (its default gzip).</summary>
    PgDump,
    /// <summary>No compression.</summary>
    None,

    /// <summary>pg_dump writes uncompressed (-Z0); the engine compresses blocks with zstd on every core, and restores decompress them on every core (default; see docs/performance.md).</summary>
    Zstd,
}
