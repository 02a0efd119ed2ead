namespace ServerlessBackup.Backups;

/// <summary>The outcome of a decryption.</summary>
/// <param name="BackupId">The backup decrypted.</param>
/// <param name="OutputPath">Where the pg_restore-ready archive was written.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="ManifestChecked">Whether the archive was also checked against an authenticated manifest (false for a lone archive file).</param>
public sealed record DecryptResult(string BackupId, string OutputPath, long Bytes, bool ManifestChecked);
