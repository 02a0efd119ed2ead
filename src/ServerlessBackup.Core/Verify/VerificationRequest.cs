namespace ServerlessBackup.Verify;

/// <summary>What to verify.</summary>
public sealed record VerificationRequest
{
    /// <summary>The catalog name of the database.</summary>
    public required string Database { get; init; }

    /// <summary>A backup id, or "latest".</summary>
    public string Backup { get; init; } = "latest";

    /// <summary>How far to go. Default: assertions (everything).</summary>
    public VerificationLevel Level { get; init; } = VerificationLevel.Assertions;

    /// <summary>pg_restore jobs for the restore.</summary>
    public int? Jobs { get; init; }

    /// <summary>Keep the scratch database afterwards (it still expires).</summary>
    public bool Keep { get; init; }

    /// <summary>Fragments of pg_restore errors to tolerate, in addition to the catalog's.</summary>
    public IReadOnlyList<string> Tolerate { get; init; } = [];
}
