namespace ServerlessBackup.Catalog;

/// <summary>Kinds of notification targets.</summary>
public enum NotificationKind
{
    /// <summary>A generic JSON webhook: the notification as JSON.</summary>
    Webhook,
    /// <summary>A Slack incoming webhook.</summary>
    Slack,
    /// <summary>A Microsoft Teams workflow ("When a Teams webhook request is received") webhook: an Adaptive Card.</summary>
    Teams,
}
