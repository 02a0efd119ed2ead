namespace ServerlessBackup.Verify;

/// <summary>How far a verification goes; each level includes the ones before it.</summary>
public enum VerificationLevel
{
    /// <summary>Every chunk authenticates, the whole archive matches its manifest, and pg_restore --list reads it. No database is created.</summary>
    Archive = 1,
    /// <summary>A full restore into a new scratch database succeeds.</summary>
    Restore = 2,
    /// <summary>Every table's row count and every sequence in the restored copy equal the census taken in the dump's snapshot.</summary>
    Census = 3,
    /// <summary>The catalog's SQL assertions for the database hold on the restored copy.</summary>
    Assertions = 4,
}
