namespace ServerlessBackup.Backups;

/// <summary>Where a backup's objects live: <c>{database}/{backupId}/archive</c> and <c>…/manifest.json</c>.</summary>
public static class BackupLayout
{
    /// <summary>The encrypted pg_dump archive.</summary>
    public static string Archive(string database, string backupId) => $"{database}/{backupId}/archive";

    /// <summary>The manifest; its presence is what makes a backup exist.</summary>
    public static string Manifest(string database, string backupId) => $"{database}/{backupId}/manifest.json";

    /// <summary>The latest verification result at one level, next to the backup (the manifest and archive are never rewritten).</summary>
    public static string Verification(string database, string backupId, string level) => $"{database}/{backupId}/verification-{level.ToLowerInvariant()}.json";

    /// <summary>The per-database lock (one writer at a time).</summary>
    public static string Lock(string database) => $"{database}/lock";

    /// <summary>Prefix of every object of a database.</summary>
    public static string DatabasePrefix(string database) => database + "/";
}
