namespace ServerlessBackup.Backups;

/// <summary>A progress report of long work: a backup, a decryption, a restore or a verification (what it is doing says <see cref="Phase"/>).</summary>
/// <param name="Phase">The phase.</param>
/// <param name="SourceBytes">Bytes read so far (pg_dump output when backing up; the stored archive when decrypting, restoring or verifying).</param>
/// <param name="StoredBytes">Bytes written so far (the encrypted archive when backing up; plaintext when decrypting, restoring or verifying).</param>
/// <param name="Elapsed">Time since the operation started.</param>
public sealed record WorkProgress(WorkPhase Phase, long SourceBytes, long StoredBytes, TimeSpan Elapsed)
{
    /// <summary>
    /// For a restore that loads tables in parallel: the tables whose rows are in so far (0 when not
    /// counted). Their loading goes on well after the archive is downloaded, so bytes alone stop moving.
    /// </summary>
    public int TablesLoaded { get; init; }

    /// <summary>The tables with rows to load, of which <see cref="TablesLoaded"/> are in (0: not counted).</summary>
    public int Tables { get; init; }
}
