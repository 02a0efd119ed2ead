namespace ServerlessBackup.Catalog;

/// <summary>The kinds of backup store.</summary>
public enum StoreKind
{
    /// <summary>A local directory (development, tests, or a mounted share).</summary>
    FileSystem,
    /// <summary>An Azure Blob Storage container.</summary>
    AzureBlob,
}
