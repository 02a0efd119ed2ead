namespace ServerlessBackup.Catalog;

/// <summary>
/// The scratch server: where restores and verifications create throwaway databases. Its admin
/// connection string (a role that may CREATE DATABASE) lives in the secret store.
/// </summary>
public sealed class ScratchOptions
{
    /// <summary>Name of the secret holding the scratch server's admin connection string. Required for restore and verify.</summary>
    public string? ConnectionStringSecret { get; set; }

    /// <summary>How long a scratch database lives before <c>sbk scratch sweep</c> drops it. Default 24 hours.</summary>
    public double TtlHours { get; set; } = 24;

    /// <summary>
    /// Allow the scratch server to be the same server (host and port) as the database being
    /// restored. Off by default so that production is never used for scratch work by accident;
    /// turn it on for development, where one local server plays both parts.
    /// </summary>
    public bool AllowSourceServer { get; set; }

    /// <summary>Path of pg_restore; default: the newest found on PATH or under /usr/lib/postgresql/*/bin.</summary>
    public string? PgRestorePath { get; set; }

    /// <summary>Where parallel restores (<c>--jobs</c> &gt; 1) and restores into real databases land the decrypted archive; default the system temp directory.</summary>
    public string? TempDirectory { get; set; }

    /// <summary>
    /// How long the database that a restore into a real database replaced is kept, renamed, on its
    /// own server (so that <c>sbk previous swap-back</c> undoes the restore in seconds), before
    /// <c>sbk previous sweep</c> (and the Functions app's maintenance) drops it. Default 72 hours.
    /// </summary>
    public double KeepPreviousHours { get; set; } = 72;
}
