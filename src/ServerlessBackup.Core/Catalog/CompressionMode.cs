namespace ServerlessBackup.Catalog;

/// <summary>Who compresses the dump.</summary>
public enum CompressionMode
{
    /// <summary>pg_dump writes uncompressed (-Z0); the engine compresses blocks on every core (default; faster, see docs/performance.md).</summary>
    Parallel,
    /// <summary>pg_dump compresses on one core (its default gzip).</summary>
    PgDump,
    /// <summary>No compression.</summary>
    None,
}
