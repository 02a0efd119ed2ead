namespace ServerlessBackup.Backups;

/// <summary>Where a long operation is.</summary>
public enum WorkPhase
{
    /// <summary>Checking keys, secrets, the server and pg_dump; nothing written yet.</summary>
    Preflight,
    /// <summary>pg_dump is streaming through compression and encryption into the store.</summary>
    Dumping,
    /// <summary>Committing the archive and writing the manifest.</summary>
    Committing,
    /// <summary>Reading and decrypting.</summary>
    Decrypting,
    /// <summary>Downloading and decrypting an archive into a local file (before a parallel or non-scratch restore).</summary>
    Downloading,
    /// <summary>pg_restore is running.</summary>
    Restoring,
    /// <summary>Checking a restored copy (census, assertions).</summary>
    Checking,
    /// <summary>Finished.</summary>
    Done,

    /// <summary>Swapping a restored and checked copy in for the database it replaces.</summary>
    Swapping,
}
