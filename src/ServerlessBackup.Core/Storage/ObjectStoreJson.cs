using System.Text.Json;

namespace ServerlessBackup.Storage;

/// <summary>Small JSON state objects kept in the store (attempt records, retention state): read if present, replace whole.</summary>
internal static class ObjectStoreJson
{
    private static readonly JsonSerializerOptions Json = SbkJson.Web();

    /// <summary>The object at <paramref name="key"/>, or default when it is missing or not valid JSON for <typeparamref name="T"/>.</summary>
    public static async Task<T?> ReadJsonAsync<T>(this IObjectStore store, string key, CancellationToken cancellationToken)
    {
        var bytes = await store.ReadStateAsync(key, cancellationToken).ConfigureAwait(false);
        try
        {
            return bytes is null ? default : JsonSerializer.Deserialize(bytes, Json.Info<T>());
        }
        catch (JsonException)
        {
            return default;
        }
    }

    /// <summary>The bytes of a small state object, or null when there is none; retried through <see cref="Errors.Retries.StateReads"/> (it may be replaced while read).</summary>
    internal static async Task<byte[]?> ReadStateAsync(this IObjectStore store, string key, CancellationToken cancellationToken) =>
        await Errors.Retries.StateReads.ExecuteAsync(async token =>
        {
            Stream stream;
            try
            {
                stream = await store.OpenReadAsync(key, token).ConfigureAwait(false);
            }
            catch (Errors.SbkException ex) when (ex.Kind == Errors.SbkErrorKind.NotFound)
            {
                return null; // One round trip to learn it is missing, not a look first and then the read.
            }

            await using var _ = stream.ConfigureAwait(false);
            using var memory = new MemoryStream();
            await stream.CopyToAsync(memory, token).ConfigureAwait(false);
            return memory.ToArray();
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>Writes (or replaces) the object at <paramref name="key"/>.</summary>
    public static Task WriteJsonAsync<T>(this IObjectStore store, string key, T value, CancellationToken cancellationToken) =>
        store.PutAsync(key, JsonSerializer.SerializeToUtf8Bytes(value, Json.Info<T>()), overwrite: true, null, cancellationToken);
}
