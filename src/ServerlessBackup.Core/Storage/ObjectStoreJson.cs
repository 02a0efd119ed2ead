using System.Text.Json;

namespace ServerlessBackup.Storage;

/// <summary>Small JSON state objects kept in the store (attempt records, retention state): read if present, replace whole.</summary>
internal static class ObjectStoreJson
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The object at <paramref name="key"/>, or default when it is missing or not valid JSON for <typeparamref name="T"/>.</summary>
    public static async Task<T?> ReadJsonAsync<T>(this IObjectStore store, string key, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (await store.GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is null)
                {
                    return default;
                }

                await using var stream = await store.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
                return await JsonSerializer.DeserializeAsync<T>(stream, Json, cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException)
            {
                return default;
            }
            catch (Errors.SbkException ex) when ((ex.IsTransient || ex.Kind == Errors.SbkErrorKind.NotFound) && attempt < 5)
            {
                // State objects are replaced whole, often: one may change (or vanish and reappear) while being read.
                await Task.Delay(20 * attempt, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes (or replaces) the object at <paramref name="key"/>.</summary>
    public static Task WriteJsonAsync<T>(this IObjectStore store, string key, T value, CancellationToken cancellationToken) =>
        store.PutAsync(key, JsonSerializer.SerializeToUtf8Bytes(value, Json), overwrite: true, null, cancellationToken);
}
