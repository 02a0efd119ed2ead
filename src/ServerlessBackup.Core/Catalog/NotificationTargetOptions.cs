namespace ServerlessBackup.Catalog;

/// <summary>Where notifications go. The webhook URL is a secret (it is the credential), so config names the secret.</summary>
public sealed class NotificationTargetOptions
{
    /// <summary>Slack (incoming webhook), Teams (workflow webhook) or Webhook (generic JSON POST).</summary>
    public NotificationKind Kind { get; set; } = NotificationKind.Webhook;

    /// <summary>Name of the secret holding the webhook URL.</summary>
    public string? UrlSecret { get; set; }
}
