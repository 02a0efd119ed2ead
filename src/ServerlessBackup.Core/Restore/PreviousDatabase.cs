namespace ServerlessBackup.Restore;

/// <summary>
/// A database that a restore into a real database replaced: kept, renamed, on its own server, so
/// that <c>sbk previous swap-back</c> undoes the restore in seconds; dropped once it expires.
/// </summary>
/// <param name="Name">Its name now (prefix <c>sbk_prev_</c>).</param>
/// <param name="Catalog">The catalog name of the database it was.</param>
/// <param name="Of">The database name it had on its server.</param>
/// <param name="RestoreId">The restore that replaced it.</param>
/// <param name="BackupId">The backup that replaced it.</param>
/// <param name="SwappedAt">When it was replaced.</param>
/// <param name="ExpiresAt">When the janitor may drop it.</param>
/// <param name="SizeBytes">Its size on the server.</param>
public sealed record PreviousDatabase(string Name, string Catalog, string Of, string RestoreId, string BackupId, DateTimeOffset SwappedAt, DateTimeOffset ExpiresAt, long SizeBytes)
{
    /// <summary>The comment the database had on its server before it was replaced (given back on a swap back).</summary>
    public string? OwnComment { get; init; }

    /// <summary>Whether it is past its expiry at <paramref name="now"/>.</summary>
    public bool IsExpiredAt(DateTimeOffset now) => now >= ExpiresAt;
}
