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

    /// <summary>The outcome of the newest backup attempt of a database (status reads it to say FAILING).</summary>
    public static string LastAttempt(string database) => $"{database}/last-attempt.json";

    /// <summary>Retention's record of a database: when pruning last deleted something.</summary>
    public static string RetentionState(string database) => $"{database}/retention.json";

    /// <summary>A hold on one backup: retention never deletes it.</summary>
    public static string Hold(string database, string backupId) => $"{database}/{backupId}/hold";

    /// <summary>A release of a backup kept "until released" by its label's rule.</summary>
    public static string Released(string database, string backupId) => $"{database}/{backupId}/released";

    /// <summary>The per-database lock (one writer at a time).</summary>
    public static string Lock(string database) => $"{database}/lock";

    /// <summary>Prefix of every object of a database.</summary>
    public static string DatabasePrefix(string database) => database + "/";
}
