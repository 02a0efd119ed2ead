namespace ServerlessBackup.Catalog;

/// <summary>One catalogued database.</summary>
public sealed class DatabaseOptions
{
    /// <summary>Name of the secret holding the connection string (URI or key=value form). Required.</summary>
    public string? ConnectionStringSecret { get; set; }

    /// <summary>How the census is taken. Default Exact.</summary>
    public CensusMode Census { get; set; } = CensusMode.Exact;
}
