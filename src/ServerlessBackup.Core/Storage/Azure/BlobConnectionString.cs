using ServerlessBackup.Errors;

namespace ServerlessBackup.Storage.Azure;

/// <summary>
/// The parts of an Azure Storage connection string the blob client needs. Accepts account-key
/// strings (including Azurite's), SAS strings and <c>UseDevelopmentStorage=true</c>.
/// <see cref="ToString"/> never shows the key or signature.
/// </summary>
public sealed class BlobConnectionString
{
    /// <summary>Azurite's published development account name.</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    // Azurite's well-known, public development key (documented by Microsoft); not a secret.
    private const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private BlobConnectionString(Uri blobEndpoint, string? accountName, byte[]? accountKey, string? sas)
    {
        BlobEndpoint = blobEndpoint;
        AccountName = accountName;
        AccountKey = accountKey;
        SharedAccessSignature = sas;
    }

    /// <summary>The blob service endpoint, e.g. https://acct.blob.core.windows.net or http://127.0.0.1:10000/devstoreaccount1.</summary>
    public Uri BlobEndpoint { get; }

    /// <summary>The account name, when known.</summary>
    public string? AccountName { get; }

    internal byte[]? AccountKey { get; }

    internal string? SharedAccessSignature { get; }

    /// <summary>Parses a connection string.</summary>
    /// <exception cref="SbkException">Kind Configuration, with a message that never repeats the string.</exception>
    public static BlobConnectionString Parse(string connectionString, string source)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw Invalid(source, "every part must look like Name=Value");
            }

            parts[part[..eq].Trim()] = part[(eq + 1)..].Trim();
        }

        if (parts.TryGetValue("UseDevelopmentStorage", out var dev) && dev.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            var proxy = parts.TryGetValue("DevelopmentStorageProxyUri", out var p) ? p.TrimEnd('/') : "http://127.0.0.1";
            return new BlobConnectionString(new Uri($"{proxy}:10000/{DevelopmentAccountName}"), DevelopmentAccountName, Convert.FromBase64String(DevelopmentAccountKey), null);
        }

        parts.TryGetValue("AccountName", out var account);
        Uri? endpoint = null;
        if (parts.TryGetValue("BlobEndpoint", out var blobEndpoint))
        {
            if (!Uri.TryCreate(blobEndpoint, UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("http" or "https"))
            {
                throw Invalid(source, "BlobEndpoint is not an http(s) URL");
            }
        }
        else if (account is not null)
        {
            var protocol = parts.TryGetValue("DefaultEndpointsProtocol", out var proto) ? proto : "https";
            var suffix = parts.TryGetValue("EndpointSuffix", out var s) ? s : "core.windows.net";
            endpoint = new Uri($"{protocol}://{account}.blob.{suffix}");
        }

        if (endpoint is null)
        {
            throw Invalid(source, "it names neither AccountName nor BlobEndpoint");
        }

        byte[]? key = null;
        if (parts.TryGetValue("AccountKey", out var keyText))
        {
            try
            {
                key = Convert.FromBase64String(keyText);
            }
            catch (FormatException)
            {
                throw Invalid(source, "AccountKey is not base64");
            }

            if (account is null)
            {
                throw Invalid(source, "AccountKey needs AccountName");
            }
        }

        parts.TryGetValue("SharedAccessSignature", out var sas);
        if (key is null && string.IsNullOrEmpty(sas))
        {
            throw Invalid(source, "it has neither AccountKey nor SharedAccessSignature (for Entra ID sign-in, configure Store:ServiceUri instead)");
        }

        return new BlobConnectionString(endpoint, account, key, sas?.TrimStart('?'));
    }

    private static SbkException Invalid(string source, string why) =>
        new(SbkErrorKind.Configuration, $"The storage connection string in {source} is not valid: {why}. Copy it again from the storage account's 'Access keys' page.");

    /// <inheritdoc />
    public override string ToString() => $"BlobEndpoint={BlobEndpoint};AccountName={AccountName};[credentials redacted]";
}
