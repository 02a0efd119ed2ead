using System.Collections.Concurrent;
using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Secrets;

/// <summary>
/// Secrets in Azure Key Vault, through the Azure SDK's <see cref="SecretClient"/>. Versions are
/// honoured (an old backup's manifest names the master key version that wrapped it). Values are
/// cached in the process for a short time; Key Vault failures become messages that say what to
/// fix (which secret, which role), never a value.
/// </summary>
public sealed class KeyVaultSecretStore : ISecretStore
{
    private readonly SecretClient client;
    private readonly TimeSpan cacheFor;
    private readonly TimeProvider time;
    private readonly ConcurrentDictionary<(string Name, string? Version), (SecretValue Value, DateTimeOffset Until)> cache = new();

    /// <param name="vaultUri">The vault.</param>
    /// <param name="credential">How to sign in (DefaultAzureCredential in Azure).</param>
    /// <param name="options">Client options (retries, transport); default: the SDK's.</param>
    /// <param name="cacheFor">How long a current version is cached.</param>
    /// <param name="time">The clock for the cache.</param>
    public KeyVaultSecretStore(Uri vaultUri, TokenCredential credential, SecretClientOptions? options = null, TimeSpan? cacheFor = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(vaultUri);
        ArgumentNullException.ThrowIfNull(credential);
        VaultUri = vaultUri;
        client = new SecretClient(vaultUri, credential, options ?? new SecretClientOptions());
        this.cacheFor = cacheFor ?? TimeSpan.FromMinutes(5);
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>The vault.</summary>
    public Uri VaultUri { get; }

    /// <inheritdoc />
    public string Description => $"the Key Vault {VaultUri}";

    /// <inheritdoc />
    public async Task<SecretValue> GetSecretAsync(string name, string? version = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var now = time.GetUtcNow();
        if (cache.TryGetValue((name, version), out var hit) && hit.Until > now)
        {
            return hit.Value;
        }

        try
        {
            var secret = (await client.GetSecretAsync(name, version, cancellationToken).ConfigureAwait(false)).Value;
            var value = new SecretValue(name, secret.Properties.Version ?? version ?? "current", secret.Value);
            cache[(name, version)] = (value, now + cacheFor);
            cache[(name, value.Version)] = (value, now + cacheFor);
            return value;
        }
        catch (Exception ex) when (ex is RequestFailedException or AuthenticationFailedException or CredentialUnavailableException)
        {
            throw Translate(ex, name, version, write: false);
        }
    }

    /// <inheritdoc />
    public async Task<SecretValue> SetSecretAsync(string name, string value, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        try
        {
            var secret = (await client.SetSecretAsync(new KeyVaultSecret(name, value) { Properties = { ContentType = "text/plain" } }, cancellationToken).ConfigureAwait(false)).Value;
            var stored = new SecretValue(name, secret.Properties.Version, value);
            cache.TryRemove((name, null), out _);
            return stored;
        }
        catch (Exception ex) when (ex is RequestFailedException or AuthenticationFailedException or CredentialUnavailableException)
        {
            throw Translate(ex, name, null, write: true);
        }
    }

    private SbkException Translate(Exception ex, string name, string? version, bool write)
    {
        var what = version is null ? $"the secret '{name}'" : $"version {version} of the secret '{name}'";
        var role = write ? "Key Vault Secrets Officer" : "Key Vault Secrets User";
        var permission = write ? "Set" : "Get";
        return ex switch
        {
            RequestFailedException { Status: 404 } => new SbkException(SbkErrorKind.NotFound,
                $"{Capital(what)} is not in {Description}." + (write ? string.Empty : " Create it (sbk secrets set, or az keyvault secret set), or check the name in the configuration.")),
            RequestFailedException { Status: 403 } rf => new SbkException(SbkErrorKind.Configuration,
                $"{Description} refused to {(write ? "write" : "read")} {what} ({rf.ErrorCode ?? "Forbidden"}): the identity sbk runs as needs the '{role}' role on the vault (Azure RBAC), or the {permission} secret permission if the vault uses access policies."),
            RequestFailedException { Status: 401 } => new SbkException(SbkErrorKind.Configuration,
                $"{Description} did not accept sbk's sign-in while reading {what}. Check the identity (Secrets:ManagedIdentityClientId, or the environment's Azure credentials) and the vault's tenant."),
            RequestFailedException { Status: 429 } => new SbkException(SbkErrorKind.Failed,
                $"{Description} is throttling requests (429) while reading {what}; try again in a minute. Many parallel backups read secrets at once; the in-process cache (Secrets:CacheSeconds) reduces that.", isTransient: true),
            RequestFailedException rf => new SbkException(SbkErrorKind.Failed,
                $"{Description} answered {rf.Status} ({rf.ErrorCode ?? "no error code"}) for {what}.", isTransient: rf.Status is 0 or >= 500),
            _ => new SbkException(SbkErrorKind.Configuration,
                $"sbk could not sign in to {Description} to read {what}: {SecretRedactor.Redact(ex.Message.Split('\n')[0])} Run where a managed identity is assigned, or sign in (az login) for development."),
        };
    }

    private static string Capital(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
