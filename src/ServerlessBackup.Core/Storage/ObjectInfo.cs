namespace ServerlessBackup.Storage;

/// <summary>A committed object in a store.</summary>
/// <param name="Key">The object's key ("/"-separated).</param>
/// <param name="Length">Its length in bytes.</param>
/// <param name="LastModified">When it was last written.</param>
/// <param name="Metadata">Its metadata (string pairs; names are lower-case ASCII).</param>
public sealed record ObjectInfo(string Key, long Length, DateTimeOffset LastModified, IReadOnlyDictionary<string, string> Metadata);
