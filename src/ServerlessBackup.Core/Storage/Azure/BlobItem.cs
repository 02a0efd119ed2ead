namespace ServerlessBackup.Storage.Azure;

/// <summary>A blob as listed or as its properties report it.</summary>
/// <param name="Name">The blob's name within the container.</param>
/// <param name="Length">Content length in bytes.</param>
/// <param name="LastModified">Last-Modified.</param>
/// <param name="ETag">The entity tag.</param>
/// <param name="Metadata">x-ms-meta-* values.</param>
public sealed record BlobItem(string Name, long Length, DateTimeOffset LastModified, string ETag, IReadOnlyDictionary<string, string> Metadata);
