namespace ServerlessBackup.Catalog;

/// <summary>Where secrets come from.</summary>
public sealed class SecretStoreOptions
{
    /// <summary>Local (a file plus SBK_SECRET_* variables; default). Key Vault arrives with the catalog issue.</summary>
    public string Kind { get; set; } = "Local";

    /// <summary>Local: the secrets file (relative to the configuration file). Default <c>.sbk/secrets.json</c>.</summary>
    public string Path { get; set; } = ".sbk/secrets.json";
}
