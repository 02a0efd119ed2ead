using System.Text;
using System.Text.Json;
using ServerlessBackup.Crypto;

namespace ServerlessBackup.Storage;

/// <summary>
/// State objects that steer decisions, stored as <c>{"sig": "…", "body": {…}}</c>: the body is
/// signed exactly as stored (its raw bytes, bound to the object's key) by <see cref="StateSigner"/>.
/// A read says whether the object is missing, trusted, or present but not to be trusted (forged,
/// edited, moved, or not JSON); callers act only on trusted ones.
/// </summary>
internal static class SignedJson
{
    private static readonly JsonSerializerOptions Json = SbkJson.Web();

    /// <summary>Signs and writes <paramref name="value"/>; with <paramref name="overwrite"/> false, only if nothing is there (returns false then).</summary>
    public static async Task<bool> WriteSignedJsonAsync<T>(this IObjectStore store, StateSigner signer, string key, T value, bool overwrite, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(value, Json.Info<T>());
        var signature = await signer.SignAsync(key, body, cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream(body.Length + 160);
        buffer.Write("{\"sig\":"u8);
        buffer.Write(JsonSerializer.SerializeToUtf8Bytes(signature, Json.Info<string>()));
        buffer.Write(",\"body\":"u8);
        buffer.Write(body);
        buffer.Write("}"u8);
        return await store.PutAsync(key, buffer.ToArray(), overwrite, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads and authenticates the object at <paramref name="key"/>.</summary>
    public static async Task<SignedRead<T>> ReadSignedJsonAsync<T>(this IObjectStore store, StateSigner signer, string key, CancellationToken cancellationToken)
    {
        var bytes = await store.ReadStateAsync(key, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return new SignedRead<T>(default, false, null);
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("sig", out var sig) || sig.ValueKind != JsonValueKind.String
                || !document.RootElement.TryGetProperty("body", out var body))
            {
                return Untrusted(key, "it is not signed", Claim<T>(bytes));
            }

            var raw = Encoding.UTF8.GetBytes(body.GetRawText());
            if (!await signer.VerifyAsync(key, raw, sig.GetString(), cancellationToken).ConfigureAwait(false))
            {
                return Untrusted(key, "its signature does not verify with the master key", Claim<T>(raw));
            }

            return new SignedRead<T>(JsonSerializer.Deserialize(raw, Json.Info<T>()), true, null);
        }
        catch (JsonException)
        {
            return Untrusted<T>(key, "it is not valid JSON", default);
        }
    }

    private static T? Claim<T>(byte[] json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, Json.Info<T>());
        }
        catch (JsonException)
        {
            return default;
        }
    }

    private static SignedRead<T> Untrusted<T>(string key, string why, T? claimed) =>
        new(default, true, $"The object {key} in the store is ignored: {why}, so sbk did not write it (it was forged, edited or moved) or it is damaged.") { Claimed = claimed };
}

/// <summary>The outcome of reading a signed state object.</summary>
/// <param name="Value">The object, when it is there and trusted.</param>
/// <param name="Exists">Whether anything is stored at its key.</param>
/// <param name="Problem">Why what is there is not trusted (null when trusted or missing).</param>
internal readonly record struct SignedRead<T>(T? Value, bool Exists, string? Problem)
{
    /// <summary>There and authenticated.</summary>
    public bool Trusted => Exists && Problem is null && Value is not null;

    /// <summary>What an untrusted object claims, for showing it as such (the audit log); never to act on.</summary>
    public T? Claimed { get; init; }
}
