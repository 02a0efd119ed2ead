namespace ServerlessBackup.Crypto;

/// <summary>How the plaintext inside an encrypted archive is encoded.</summary>
public enum PayloadEncoding : byte
{
    /// <summary>The pg_dump custom-format archive as pg_dump wrote it (pg_dump compressed it, or nothing did).</summary>
    Plain = 0,
    /// <summary>The pg_dump archive (written with -Z0) as a sequence of independent gzip members, compressed in parallel by the engine.</summary>
    GzipMembers = 1,

    /// <summary>The pg_dump archive (written with -Z0) as independent zstd frames, each after a skippable frame holding its length; compressed and decompressed in parallel by the engine (the default since zstd).</summary>
    ZstdFrames = 2,
}
