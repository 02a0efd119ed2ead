namespace ServerlessBackup.Catalog;

/// <summary>How long backups with one label are kept.</summary>
public sealed class LabelRetention
{
    /// <summary>Kept this many days after the backup started.</summary>
    public double? KeepDays { get; set; }

    /// <summary>Kept until someone releases it (<c>sbk release</c>), however old.</summary>
    public bool KeepUntilReleased { get; set; }
}
