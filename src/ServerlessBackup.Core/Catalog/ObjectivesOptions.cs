namespace ServerlessBackup.Catalog;

/// <summary>Recovery objectives of a database.</summary>
public sealed class ObjectivesOptions
{
    /// <summary>
    /// Recovery point objective: the most data, in hours, that may be lost. A database whose newest
    /// complete backup is older is LATE. Default: the longest gap between two scheduled backups plus
    /// one hour (25 hours for a daily schedule); 25 hours without a schedule.
    /// </summary>
    public double? RpoHours { get; set; }

    /// <summary>Recovery time objective: how long, in hours, a restore may take (checked by drills). Default 4.</summary>
    public double RtoHours { get; set; } = 4;
}
