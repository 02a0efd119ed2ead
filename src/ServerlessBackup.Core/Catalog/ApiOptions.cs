namespace ServerlessBackup.Catalog;

/// <summary>The chat-ops HTTP API (<c>sbk serve</c> and the Functions app).</summary>
public sealed class ApiOptions
{
    /// <summary>The callers, each with a name (it appears in the audit log) and the secret holding its key.</summary>
    public List<ApiKeyOptions> Keys { get; set; } = [];

    /// <summary>Name of the secret holding the Slack app's signing secret; none: the Slack endpoint refuses every request.</summary>
    public string? SlackSigningSecret { get; set; }

    /// <summary>Slack response URLs must start with this. Default <c>https://hooks.slack.com/</c>.</summary>
    public string SlackResponseUrlPrefix { get; set; } = "https://hooks.slack.com/";

    /// <summary>Largest request body accepted, bytes. Default 64 KiB.</summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// How long a listing or the health answer is reused, seconds. Concurrent identical requests
    /// always share one read of the store; operations this server finishes clear it at once.
    /// Default 2; 0 turns reuse off (sharing stays).
    /// </summary>
    public double CacheSeconds { get; set; } = 2;

    /// <summary>Operations (backups, restores, verifications) running at once in <c>sbk serve</c>. Default 2.</summary>
    public int MaxConcurrentOperations { get; set; } = 2;

    /// <summary>How long a restore into a real database waits for its second approver before it expires, hours. Default 24.</summary>
    public double ApprovalTimeoutHours { get; set; } = 24;
}

/// <summary>One API caller.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>The caller's name, as the audit log shows it (e.g. slack-bot, teams-bot, alice).</summary>
    public string? Name { get; set; }

    /// <summary>Name of the secret holding the caller's key.</summary>
    public string? KeySecret { get; set; }
}
