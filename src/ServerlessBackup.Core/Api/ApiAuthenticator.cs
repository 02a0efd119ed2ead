using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ServerlessBackup.Catalog;
using ServerlessBackup.Errors;
using ServerlessBackup.Secrets;

namespace ServerlessBackup.Api;

/// <summary>
/// Who is calling. API keys (from the secret store, compared in constant time) name their caller;
/// Slack requests are verified by their signature (HMAC-SHA256 of <c>v0:{timestamp}:{body}</c> with
/// the signing secret), must be at most five minutes old, and are accepted once: each signature is
/// marked in the store (create-only, signed), so a replay to another instance, or after a restart,
/// is refused too.
/// </summary>
internal sealed class ApiAuthenticator(ApiOptions options, ISecretStore secrets, TimeProvider time, Storage.IObjectStore store, Crypto.StateSigner signer)
{
    /// <summary>Where accepted Slack signatures are marked.</summary>
    public const string SlackSeenPrefix = Operations.OperationStore.Prefix + "slack-seen/";

    private static readonly TimeSpan SlackWindow = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, DateTimeOffset> seenSlackSignatures = new(StringComparer.Ordinal);
    private List<(string Name, byte[] KeyHash)>? keys;
    private DateTimeOffset keysLoadedAt;

    /// <summary>The caller an API key belongs to, or null.</summary>
    public async Task<ApiCaller?> AuthenticateKeyAsync(IReadOnlyDictionary<string, string> headers, CancellationToken cancellationToken)
    {
        var presented = headers.TryGetValue("Authorization", out var auth) && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? auth["Bearer ".Length..].Trim()
            : headers.GetValueOrDefault("X-Api-Key")?.Trim();
        if (string.IsNullOrEmpty(presented))
        {
            return null;
        }

        var presentedHash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        ApiCaller? match = null;
        foreach (var (name, keyHash) in await KeysAsync(cancellationToken).ConfigureAwait(false))
        {
            // Every key is compared, in constant time, whether or not one matched already.
            if (CryptographicOperations.FixedTimeEquals(presentedHash, keyHash))
            {
                match = new ApiCaller(name, "api-key");
            }
        }

        return match;
    }

    /// <summary>Verifies a Slack request; returns null when it is genuine, else why not.</summary>
    public async Task<string?> VerifySlackAsync(IReadOnlyDictionary<string, string> headers, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (options.SlackSigningSecret is null)
        {
            return "this server has no Slack signing secret configured (Api:SlackSigningSecret)";
        }

        if (!headers.TryGetValue("X-Slack-Request-Timestamp", out var timestampText) || !headers.TryGetValue("X-Slack-Signature", out var signature)
            || !long.TryParse(timestampText, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
        {
            return "the request has no Slack signature headers";
        }

        var now = time.GetUtcNow();
        var sent = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(timestamp, 0, 253_402_300_799));
        if ((now - sent).Duration() > SlackWindow)
        {
            return "the request's timestamp is more than five minutes away from now (a replay, or a clock out of step)";
        }

        var secret = await secrets.GetSecretAsync(options.SlackSigningSecret, null, cancellationToken).ConfigureAwait(false);
        var basis = new byte[3 + timestampText.Length + 1 + body.Length];
        Encoding.ASCII.GetBytes("v0:" + timestampText + ":", basis);
        body.Span.CopyTo(basis.AsSpan(3 + timestampText.Length + 1));
        var expected = Encoding.ASCII.GetBytes("v0=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret.Reveal()), basis)));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature)))
        {
            return "the Slack signature does not match";
        }

        foreach (var old in seenSlackSignatures.Where(s => now - s.Value > SlackWindow).Select(s => s.Key).ToList())
        {
            seenSlackSignatures.TryRemove(old, out _);
        }

        if (!seenSlackSignatures.TryAdd(signature, now))
        {
            return "this exact request was already received (a replay)";
        }

        // Every instance sharing the store sees the mark; only the first to write it accepts the request.
        var mark = SlackSeenPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(signature)));
        return await Storage.SignedJson.WriteSignedJsonAsync(store, signer, mark, new Seen(now), overwrite: false, cancellationToken).ConfigureAwait(false)
            ? null
            : "this exact request was already received (a replay)";
    }

    private async Task<List<(string Name, byte[] KeyHash)>> KeysAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (keys is not null && now - keysLoadedAt < TimeSpan.FromMinutes(5))
        {
            return keys;
        }

        var loaded = new List<(string, byte[])>();
        foreach (var key in options.Keys)
        {
            try
            {
                var value = await secrets.GetSecretAsync(key.KeySecret!, null, cancellationToken).ConfigureAwait(false);
                loaded.Add((key.Name!, SHA256.HashData(Encoding.UTF8.GetBytes(value.Reveal().Trim()))));
            }
            catch (SbkException ex) when (ex.Kind == SbkErrorKind.NotFound)
            {
                // A caller whose key secret is missing cannot sign in; the others still can.
            }
        }

        (keys, keysLoadedAt) = (loaded, now);
        return loaded;
    }

    /// <summary>The mark of a Slack request already received (its time).</summary>
    internal sealed record Seen(DateTimeOffset At);
}
