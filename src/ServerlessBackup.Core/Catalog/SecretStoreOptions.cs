namespace ServerlessBackup.Catalog;

/// <summary>Where secrets come from.</summary>
public sealed class SecretStoreOptions
{
    /// <summary>Local (a file plus SBK_SECRET_* variables; the default, for development) or KeyVault.</summary>
    public string Kind { get; set; } = "Local";

    /// <summary>Local: the secrets file (relative to the configuration file). Default <c>.sbk/secrets.json</c>.</summary>
    public string Path { get; set; } = ".sbk/secrets.json";

    /// <summary>KeyVault: the vault, e.g. <c>https://contoso-backups.vault.azure.net/</c>.</summary>
    public Uri? VaultUri { get; set; }

    /// <summary>KeyVault: sign in as this user-assigned managed identity (its client id); default: DefaultAzureCredential's chain.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>KeyVault: how long a secret's current version is cached in the process. Default 300 s; versions named explicitly never change and are cached as long.</summary>
    public double CacheSeconds { get; set; } = 300;
}
