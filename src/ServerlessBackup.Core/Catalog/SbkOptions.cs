namespace ServerlessBackup.Catalog;

/// <summary>
/// The whole configuration, bound from <c>sbk.json</c> (or app settings in Azure) and environment
/// variables. It names secrets; it never holds one.
/// </summary>
public sealed class SbkOptions
{
    /// <summary>Where backups are stored.</summary>
    public StoreOptions Store { get; set; } = new();

    /// <summary>Where secrets are read from.</summary>
    public SecretStoreOptions Secrets { get; set; } = new();

    /// <summary>Name of the secret holding the master key (KEK). Default <c>sbk-master-key</c>.</summary>
    public string MasterKeySecret { get; set; } = "sbk-master-key";

    /// <summary>How dumps are taken.</summary>
    public DumpOptions Dump { get; set; } = new();

    /// <summary>Where restores and verifications create scratch databases.</summary>
    public ScratchOptions Scratch { get; set; } = new();

    /// <summary>The HTTP API.</summary>
    public ApiOptions Api { get; set; } = new();

    /// <summary>Where notifications go.</summary>
    public NotificationOptions Notifications { get; set; } = new();

    /// <summary>How many backups <c>sbk run-due</c> runs at once. Default 2.</summary>
    public int MaxParallelBackups { get; set; } = 2;

    /// <summary>The catalogued databases, by the name users and the store know them by.</summary>
    public Dictionary<string, DatabaseOptions> Databases { get; set; } = new(StringComparer.Ordinal);
}
