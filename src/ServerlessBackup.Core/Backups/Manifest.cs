using System.Text.Json.Serialization;
using ServerlessBackup.Crypto;

namespace ServerlessBackup.Backups;

/// <summary>
/// A backup's manifest, written after its archive is committed. Its presence is the commit
/// marker. The fields here are in clear (what listing needs); everything derived from the data
/// (census, pg_dump's messages) is in <see cref="Sealed"/>, encrypted, and the clear fields are its
/// associated data, so editing either is detected. See docs/format.md.
/// </summary>
public sealed record Manifest
{
    /// <summary>The manifest format version.</summary>
    public int FormatVersion { get; init; } = 1;

    /// <summary>The backup id.</summary>
    public required string BackupId { get; init; }

    /// <summary>The catalog name of the database.</summary>
    public required string Database { get; init; }

    /// <summary>The label given at backup time, if any.</summary>
    public string? Label { get; init; }

    /// <summary>When the backup started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>When the archive was committed.</summary>
    public required DateTimeOffset CompletedAt { get; init; }

    /// <summary>The server's clock at the dump's snapshot: the instant the backup describes (the basis of RPO).</summary>
    public required DateTimeOffset SnapshotTime { get; init; }

    /// <summary>Whether pg_dump used the exported snapshot the census was taken in.</summary>
    public required bool SnapshotShared { get; init; }

    /// <summary>The archive object.</summary>
    public required ManifestArchive Archive { get; init; }

    /// <summary>Source server and tool versions.</summary>
    public required ManifestSource Source { get; init; }

    /// <summary>The wrapped data key.</summary>
    public required StoredKey Key { get; init; }

    /// <summary>Warnings recorded during the backup.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The encrypted, authenticated private part (<see cref="ManifestPrivate"/>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SealedPart? Sealed { get; init; }
}

/// <summary>The archive object as committed.</summary>
/// <param name="Key">Its store key.</param>
/// <param name="Length">Its length in bytes (ciphertext, header included).</param>
/// <param name="Sha256">SHA-256 of the stored bytes, lower-case hex.</param>
/// <param name="ChunkSize">Plaintext bytes per chunk.</param>
/// <param name="Encoding">"Plain", "GzipMembers" or "ZstdFrames".</param>
/// <param name="DumpLength">Bytes pg_dump wrote.</param>
public sealed record ManifestArchive(string Key, long Length, string Sha256, int ChunkSize, string Encoding, long DumpLength);

/// <summary>Where the dump came from.</summary>
/// <param name="ServerVersion">The server's version.</param>
/// <param name="PgDumpVersion">The pg_dump version used.</param>
public sealed record ManifestSource(string ServerVersion, string PgDumpVersion);

