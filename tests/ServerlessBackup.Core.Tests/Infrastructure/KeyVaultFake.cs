using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using Microsoft.AspNetCore.Http;

namespace ServerlessBackup.Tests.Infrastructure;

/// <summary>
/// A PROTOCOL-LEVEL FAKE of the Azure Key Vault secrets REST API (no Key Vault emulator exists),
/// on loopback HTTPS with its own self-signed certificate, so that the real SecretClient runs
/// against it: the bearer challenge (401 with WWW-Authenticate), GET /secrets/{name}[/{version}],
/// PUT /secrets/{name}, 404 SecretNotFound, 403 Forbidden and 429 throttling.
/// </summary>
internal sealed class KeyVaultFake : IAsyncDisposable
{
    public const string Token = "fake-vault-token";
    private readonly ConcurrentDictionary<string, List<(string Version, string Value)>> secrets = new(StringComparer.OrdinalIgnoreCase);
    private readonly X509Certificate2 certificate;
    private LoopbackServer server = null!;

    private KeyVaultFake(X509Certificate2 certificate) => this.certificate = certificate;

    /// <summary>Names the identity may not read or write (403).</summary>
    public HashSet<string> Forbidden { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Names whose requests are throttled (429).</summary>
    public HashSet<string> Throttled { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Uri VaultUri => server.BaseUri;

    public IEnumerable<RecordedRequest> Requests => server.Requests;

    public static async Task<KeyVaultFake> StartAsync()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=sbk-test-vault", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var generated = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        var certificate = X509CertificateLoader.LoadPkcs12(generated.Export(X509ContentType.Pfx), null);
        var fake = new KeyVaultFake(certificate);
        fake.server = await LoopbackServer.StartAsync(fake.HandleAsync, certificate);
        return fake;
    }

    /// <summary>Options for a SecretClient that trusts exactly this fake's certificate and does not wait between retries.</summary>
    public SecretClientOptions ClientOptions()
    {
        var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == certificate.Thumbprint };
        var options = new SecretClientOptions { Transport = new HttpClientTransport(handler), DisableChallengeResourceVerification = true };
        options.Retry.MaxRetries = 0;
        return options;
    }

    /// <summary>Hands out the token the fake expects (a test credential, not a real sign-in).</summary>
    public sealed class TestCredential : TokenCredential
    {
        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes.AddRange(requestContext.Scopes);
            return new AccessToken(Token, DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }

    private async Task HandleAsync(HttpContext context, string body)
    {
        var response = context.Response;
        if (context.Request.Headers.Authorization.ToString() != "Bearer " + Token)
        {
            response.StatusCode = 401;
            response.Headers.WWWAuthenticate = "Bearer authorization=\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000\", resource=\"https://vault.azure.net\"";
            return;
        }

        var segments = context.Request.Path.Value!.Trim('/').Split('/');
        if (segments.Length is < 2 or > 3 || segments[0] != "secrets")
        {
            await ErrorAsync(response, 400, "BadParameter", "Unknown path.");
            return;
        }

        var name = segments[1];
        if (Throttled.Contains(name))
        {
            response.Headers.RetryAfter = "1";
            await ErrorAsync(response, 429, "Throttled", "Rate limit exceeded.");
            return;
        }

        if (Forbidden.Contains(name))
        {
            await ErrorAsync(response, 403, "Forbidden", $"Caller is not authorized to perform action on resource. Action: 'Microsoft.KeyVault/vaults/secrets/{(context.Request.Method == "PUT" ? "setSecret" : "getSecret")}/action'");
            return;
        }

        if (context.Request.Method == "PUT" && segments.Length == 2)
        {
            var value = JsonNode.Parse(body)!["value"]!.GetValue<string>();
            var version = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            secrets.AddOrUpdate(name, _ => [(version, value)], (_, list) => { lock (list) { list.Add((version, value)); } return list; });
            await SecretAsync(response, name, version, value);
            return;
        }

        if (context.Request.Method == "GET" && secrets.TryGetValue(name, out var versions))
        {
            (string Version, string Value)? found;
            lock (versions)
            {
                found = segments.Length == 3 && segments[2].Length > 0 ? versions.FirstOrDefault(v => v.Version == segments[2]) is { Version: not null } v ? v : null : versions[^1];
            }

            if (found is { } f)
            {
                await SecretAsync(response, name, f.Version, f.Value);
                return;
            }
        }

        await ErrorAsync(response, 404, "SecretNotFound", $"A secret with (name/id) {name} was not found in this key vault.");
    }

    private Task SecretAsync(HttpResponse response, string name, string version, string value)
    {
        response.ContentType = "application/json; charset=utf-8";
        return response.WriteAsync(JsonSerializer.Serialize(new
        {
            value,
            id = new Uri(VaultUri, $"/secrets/{name}/{version}").ToString(),
            attributes = new { enabled = true, created = 1_763_000_000, updated = 1_763_000_000, recoveryLevel = "Recoverable+Purgeable" },
        }));
    }

    private static Task ErrorAsync(HttpResponse response, int status, string code, string message)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        return response.WriteAsync(JsonSerializer.Serialize(new { error = new { code, message } }));
    }

    public async ValueTask DisposeAsync()
    {
        await server.DisposeAsync();
        certificate.Dispose();
    }
}
