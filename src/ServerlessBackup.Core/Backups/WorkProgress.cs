namespace ServerlessBackup.Backups;

/// <summary>A progress report of a backup or decryption.</summary>
/// <param name="Phase">The phase.</param>
/// <param name="SourceBytes">Bytes read from the source so far (pg_dump output, or stored archive when decrypting).</param>
/// <param name="StoredBytes">Bytes written so far (encrypted archive, or plaintext archive when decrypting).</param>
/// <param name="Elapsed">Time since the operation started.</param>
public sealed record BackupProgress(BackupPhase Phase, long SourceBytes, long StoredBytes, TimeSpan Elapsed);
