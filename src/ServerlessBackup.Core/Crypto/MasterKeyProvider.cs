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

    /// <summary>Creates the master key (32 random bytes) unless it exists; returns its version and whether it was created now.</summary>
    public async Task<(string Version, bool Created)> EnsureAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var existing = await secrets.GetSecretAsync(currentName, null, cancellationToken).ConfigureAwait(false);
            MasterKey.FromSecret(existing);
            return (existing.Version, false);
        }
        catch (SbkException ex) when (ex.Kind == SbkErrorKind.NotFound)
        {
            var created = await secrets.SetSecretAsync(currentName, MasterKey.GenerateSecretValue(), cancellationToken).ConfigureAwait(false);
            return (created.Version, true);
        }
    }

    /// <summary>
    /// Adds a new version of the master key and makes it current: new backups wrap their keys with
    /// it; older ones keep naming the version that wrapped them. Returns the previous and the new version.
    /// </summary>
    /// <exception cref="SbkException">Configuration: there is no valid current key to rotate from (create one with 'sbk keys init').</exception>
    public async Task<(string Previous, string Current)> RotateAsync(CancellationToken cancellationToken = default)
    {
        var current = await GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        var created = await secrets.SetSecretAsync(currentName, MasterKey.GenerateSecretValue(), cancellationToken).ConfigureAwait(false);
        return (current.Version, created.Version);
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
