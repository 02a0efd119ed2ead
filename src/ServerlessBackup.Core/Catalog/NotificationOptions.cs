namespace ServerlessBackup.Catalog;

/// <summary>Notifications: backup failed, database late, retention stalled, drill reports.</summary>
public sealed class NotificationOptions
{
    /// <summary>The targets; each gets every notification.</summary>
    public List<NotificationTargetOptions> Targets { get; set; } = [];

    /// <summary>How long one delivery may take before it is abandoned (it never holds up a backup longer). Default 10 s.</summary>
    public double TimeoutSeconds { get; set; } = 10;
}
