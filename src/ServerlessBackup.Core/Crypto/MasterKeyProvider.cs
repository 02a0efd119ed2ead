using System.Collections.Concurrent;
using ServerlessBackup.Errors;
using ServerlessBackup.Secrets;

namespace ServerlessBackup.Crypto;

/// <summary>Reads master keys from the secret store: the current version for new backups, the recorded version for old ones.</summary>
public sealed class MasterKeyProvider
{
    private readonly ISecretStore secrets;
    private readonly string currentName;
    private readonly ConcurrentDictionary<(string, string), MasterKey> byVersion = new();

    /// <summary>Creates the provider; <paramref name="currentName"/> is the configured master-key secret.</summary>
    public MasterKeyProvider(ISecretStore secrets, string currentName)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentException.ThrowIfNullOrEmpty(currentName);
        this.secrets = secrets;
        this.currentName = currentName;
    }

    /// <summary>The current version of the configured master key.</summary>
    /// <exception cref="SbkException">Configuration when it is missing, saying how to create it.</exception>
    public async Task<MasterKey> GetCurrentAsync(CancellationToken cancellationToken = default)
    {
        SecretValue secret;
        try
        {
            secret = await secrets.GetSecretAsync(currentName, null, cancellationToken).ConfigureAwait(false);
        }
        catch (SbkException ex) when (ex.Kind == SbkErrorKind.NotFound)
        {
            throw new SbkException(SbkErrorKind.Configuration,
                $"The master key '{currentName}' is not in {secrets.Description}, so no backup can be encrypted; nothing was uploaded. Create it with 'sbk keys init' (or restore it from your key escrow).", false, ex);
        }

        var key = MasterKey.FromSecret(secret);
        byVersion.TryAdd((key.Name, key.Version), key);
        return key;
    }

    /// <summary>
    /// The exact master key version that wrapped a backup. When that version is not stored but a
    /// key of that name is given in the environment (<c>SBK_SECRET_…</c>, the emergency path), that
    /// key is tried as the version asked for: unwrapping authenticates, so a wrong key is refused
    /// there, saying so, and never decrypts anything.
    /// </summary>
    public async Task<MasterKey> GetAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        if (byVersion.TryGetValue((name, version), out var cached))
        {
            return cached;
        }

        SecretValue secret;
        try
        {
            secret = await secrets.GetSecretAsync(name, version, cancellationToken).ConfigureAwait(false);
        }
        catch (SbkException ex) when (ex.Kind == SbkErrorKind.NotFound)
        {
            if (await FromEnvironmentAsync(name, cancellationToken).ConfigureAwait(false) is { } given)
            {
                return MasterKey.FromSecret(new SecretValue(name, version, given.Reveal()));
            }

            throw new SbkException(SbkErrorKind.NotFound,
                $"This backup was encrypted with master key '{name}' version '{version}', which is not in {secrets.Description}. Restore that key version (from Key Vault's history or your escrow copy); without it the backup cannot be decrypted.", false, ex);
        }

        var key = MasterKey.FromSecret(secret);
        byVersion.TryAdd((name, version), key);
        return key;
    }

    /// <summary>The key of that name given in the environment (a local secret store's <c>SBK_SECRET_…</c> variable), if any.</summary>
    private async Task<SecretValue?> FromEnvironmentAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var current = await secrets.GetSecretAsync(name, null, cancellationToken).ConfigureAwait(false);
            return current.Version == LocalSecretStore.EnvironmentVersionName ? current : null;
        }
        catch (SbkException)
        {
            return null;
        }
    }
}
