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

    /// <summary>How many backups <c>sbk run-due</c> (and the Functions app's run-due orchestration) runs at once. Default 2.</summary>
    public int MaxParallelBackups { get; set; } = 2;

    /// <summary>
    /// Functions app: when the RunDue timer looks for due databases (NCRONTAB, six fields). Default
    /// every 5 minutes. Each database's own <see cref="DatabaseOptions.Schedule"/> decides whether it is due.
    /// </summary>
    public string RunDueSchedule { get; set; } = DefaultRunDueSchedule;

    /// <summary>Functions app: when the Maintenance timer prunes, sweeps scratch databases and checks freshness. Default hourly.</summary>
    public string MaintenanceSchedule { get; set; } = DefaultMaintenanceSchedule;

    /// <summary>Functions app: when the Drill timer runs a restore drill of every catalogued database. Default quarterly (03:00 UTC on 1 January, April, July, October).</summary>
    public string DrillSchedule { get; set; } = DefaultDrillSchedule;

    /// <summary>The default of <see cref="RunDueSchedule"/>.</summary>
    public const string DefaultRunDueSchedule = "0 */5 * * * *";

    /// <summary>The default of <see cref="MaintenanceSchedule"/>.</summary>
    public const string DefaultMaintenanceSchedule = "0 17 * * * *";

    /// <summary>The default of <see cref="DrillSchedule"/>.</summary>
    public const string DefaultDrillSchedule = "0 0 3 1 1,4,7,10 *";

    /// <summary>The catalogued databases, by the name users and the store know them by.</summary>
    public Dictionary<string, DatabaseOptions> Databases { get; set; } = new(StringComparer.Ordinal);
}
