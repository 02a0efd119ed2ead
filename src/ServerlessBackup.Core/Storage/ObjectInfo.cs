namespace ServerlessBackup.Storage;

/// <summary>A committed object in a store.</summary>
/// <param name="Key">The object's key ("/"-separated).</param>
/// <param name="Length">Its length in bytes.</param>
/// <param name="LastModified">When it was last written.</param>
/// <param name="Metadata">Its metadata (string pairs; names are lower-case ASCII).</param>
public sealed record ObjectInfo(string Key, long Length, DateTimeOffset LastModified, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>Until when the store refuses to delete or overwrite it (a time-based immutability policy), if it does.</summary>
    public DateTimeOffset? ImmutableUntil { get; init; }

    /// <summary>Whether a legal hold keeps the store from deleting or overwriting it.</summary>
    public bool LegalHold { get; init; }

    /// <summary>Whether the store would refuse to delete it at <paramref name="now"/>.</summary>
    public bool IsProtectedAt(DateTimeOffset now) => LegalHold || ImmutableUntil > now;
}
