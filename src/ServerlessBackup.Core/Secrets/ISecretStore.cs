namespace ServerlessBackup.Secrets;

/// <summary>
/// Where connection strings, storage keys and the master key live (Key Vault in Azure, a local
/// file for development). Implementations never put a secret value in an exception message.
/// </summary>
public interface ISecretStore
{
    /// <summary>A human description of the store for messages, e.g. "local secret file /x/secrets.json".</summary>
    string Description { get; }

    /// <summary>Reads a secret, the current version unless <paramref name="version"/> names one.</summary>
    /// <exception cref="Errors.SbkException">With kind NotFound when the secret or version does not exist.</exception>
    Task<SecretValue> GetSecretAsync(string name, string? version = null, CancellationToken cancellationToken = default);

    /// <summary>Stores a new version of a secret and makes it current; returns that version.</summary>
    Task<SecretValue> SetSecretAsync(string name, string value, CancellationToken cancellationToken = default);
}
