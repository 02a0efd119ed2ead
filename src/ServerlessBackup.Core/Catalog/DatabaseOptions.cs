namespace ServerlessBackup.Catalog;

/// <summary>One catalogued database.</summary>
public sealed class DatabaseOptions
{
    /// <summary>Name of the secret holding the connection string (URI or key=value form). Required.</summary>
    public string? ConnectionStringSecret { get; set; }

    /// <summary>How the census is taken. Default Exact.</summary>
    public CensusMode Census { get; set; } = CensusMode.Exact;

    /// <summary>When backups are due: NCRONTAB, 6 fields (seconds first, as Azure Functions timers) or 5. None: manual backups only.</summary>
    public string? Schedule { get; set; }

    /// <summary>IANA time zone the schedule and the retention's days, weeks and months are in. Default UTC.</summary>
    public string? TimeZone { get; set; }

    /// <summary>Recovery objectives.</summary>
    public ObjectivesOptions Objectives { get; set; } = new();

    /// <summary>Which backups to keep; none configured: keep everything.</summary>
    public RetentionOptions? Retention { get; set; }

    /// <summary>Checks run against a restored copy by <c>sbk verify --level assertions</c> and by drills.</summary>
    public List<AssertionOptions> Assertions { get; set; } = [];

    /// <summary>
    /// pg_restore errors that are known and harmless for this database, as fragments of the error
    /// text (for example <c>extension "pg_stat_statements"</c> for a provider-only extension).
    /// Any other error fails the restore.
    /// </summary>
    public List<string> TolerateRestoreErrors { get; set; } = [];

    /// <summary>
    /// pg_restore jobs for this database's restores, verifications and drills when none are given
    /// (1-64; default 1). Above 1 the decrypted archive is first written to a private temporary
    /// file. Drills use it so that the time they measure is the one a real restore would take.
    /// </summary>
    public int RestoreJobs { get; set; } = 1;

    /// <summary>The time zone its schedule and retention periods are read in (UTC when none is configured).</summary>
    public TimeZoneInfo Zone() => TimeZone is { } id ? TimeZoneInfo.FindSystemTimeZoneById(id) : TimeZoneInfo.Utc;

    /// <summary>The recovery point objective in hours: configured, else the longest gap between scheduled backups plus an hour, else 25.</summary>
    public double RpoHours(DateTimeOffset now)
    {
        if (Objectives.RpoHours is { } configured)
        {
            return configured;
        }

        if (Schedule is null)
        {
            return 25;
        }

        var occurrences = CronSchedule.Parse(Schedule).Occurrences(now, now.AddDays(400), Zone(), limit: 500).ToList();
        var gaps = occurrences.Zip(occurrences.Skip(1), (a, b) => (b - a).TotalHours).ToList();
        return (gaps.Count > 0 ? gaps.Max() : 24) + 1;
    }
}
