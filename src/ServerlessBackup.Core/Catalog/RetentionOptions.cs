namespace ServerlessBackup.Catalog;

/// <summary>
/// Which backups of a database to keep. Without this section nothing is ever deleted. Counts are
/// grandfather-father-son: keep the newest backup in each of the N most recent hours, days, weeks,
/// months and years that have one (days, weeks, months and years in the database's time zone).
/// </summary>
public sealed class RetentionOptions
{
    /// <summary>Hourly backups to keep.</summary>
    public int Hourly { get; set; }

    /// <summary>Daily backups to keep.</summary>
    public int Daily { get; set; }

    /// <summary>Weekly backups (ISO weeks) to keep.</summary>
    public int Weekly { get; set; }

    /// <summary>Monthly backups to keep.</summary>
    public int Monthly { get; set; }

    /// <summary>Yearly backups to keep.</summary>
    public int Yearly { get; set; }

    /// <summary>Keep every backup of the last N days (beside the counts: "everything for a week, then one a month"). 0: none by age.</summary>
    public double KeepDays { get; set; }

    /// <summary>No backup younger than this is deleted, whatever the counts say. Default 24 hours.</summary>
    public double MinAgeHours { get; set; } = 24;

    /// <summary>
    /// Rules for labelled backups, by label: <c>{ "pre-migration": { "KeepDays": 90 }, "emergency": { "KeepUntilReleased": true } }</c>.
    /// A labelled backup with a rule is kept by its rule and, once the rule no longer keeps it, deleted;
    /// labels without a rule count as unlabelled.
    /// </summary>
    public Dictionary<string, LabelRetention> Labels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>An archive without a manifest (a crashed backup) older than this is swept. Default 48 hours.</summary>
    public double OrphanSafetyHours { get; set; } = 48;

    /// <summary>Warn (notify) when pruning has deleted nothing for this many days while backups accumulate. Default 30.</summary>
    public double StalledAfterDays { get; set; } = 30;
}
