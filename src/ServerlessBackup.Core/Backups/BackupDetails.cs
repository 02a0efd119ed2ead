namespace ServerlessBackup.Backups;

/// <summary>A backup's manifest, authenticated, with its private part.</summary>
/// <param name="Manifest">The clear part.</param>
/// <param name="Private">The sealed part, opened.</param>
public sealed record BackupDetails(Manifest Manifest, ManifestPrivate Private);
