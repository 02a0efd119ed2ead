using System.Globalization;
using System.Text;
using ServerlessBackup.Storage;

namespace ServerlessBackup.Operations;

/// <summary>
/// One backup or restore per database at a time, across every instance that shares the store:
/// each database has a sequence of slot objects <c>_operations/slots/{database}/{generation}</c>,
/// each naming the operation that took it. Taking the slot writes the next generation with a
/// create-only put, so of two instances racing for it exactly one wins; a slot whose operation
/// has ended (or that names an operation nobody knows after a grace period) is free. Slots are
/// never deleted to be released, so no instance can free another's slot by mistake. Slots are
/// signed: one written by anyone without the master key holds nothing.
/// </summary>
internal sealed class DatabaseSlots(IObjectStore store, Crypto.StateSigner signer, TimeProvider time)
{
    public const string Prefix = OperationStore.Prefix + "slots/";

    /// <summary>How long a slot whose operation is not (yet) known anywhere still counts as held: the submitter writes the slot first.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(2);

    /// <summary>Takes <paramref name="database"/>'s slot for <paramref name="operationId"/>; returns null when taken (or already held by it), else the id of the operation holding it.</summary>
    /// <param name="database">The catalog name.</param>
    /// <param name="operationId">The operation that wants it.</param>
    /// <param name="isLive">Whether an operation id names an operation that has not ended; null when no such operation is known (yet).</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    public async Task<string?> TryAcquireAsync(string database, string operationId, Func<string, CancellationToken, Task<bool?>> isLive, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var newest = await NewestAsync(database, cancellationToken).ConfigureAwait(false);
            if (newest is { Holder.Length: > 0 } held)
            {
                if (held.Holder == operationId)
                {
                    return null;
                }

                var live = await isLive(held.Holder, cancellationToken).ConfigureAwait(false) ?? time.GetUtcNow() - held.Info.LastModified < Grace;
                if (live)
                {
                    return held.Holder;
                }
            }

            var next = (newest?.Generation ?? 0) + 1;
            if (await store.WriteSignedJsonAsync(signer, Key(database, next), new Slot(operationId), overwrite: false, cancellationToken).ConfigureAwait(false))
            {
                await ForgetOldAsync(database, next, cancellationToken).ConfigureAwait(false);
                return null;
            }

            // Another instance took generation `next` first: look again (it is now the holder).
            if (attempt >= 5)
            {
                return (await NewestAsync(database, cancellationToken).ConfigureAwait(false))?.Holder ?? "unknown";
            }
        }
    }

    private async Task<(long Generation, string Holder, ObjectInfo Info)?> NewestAsync(string database, CancellationToken cancellationToken)
    {
        ObjectInfo? newest = null;
        long generation = 0;
        await foreach (var item in store.ListAsync(Prefix + database + "/", cancellationToken).ConfigureAwait(false))
        {
            // Ordinal order, generations are zero-padded; anything else under the prefix is not ours.
            if (Generation(item.Key) is { } g && g >= generation)
            {
                (newest, generation) = (item, g);
            }
        }

        if (newest is null)
        {
            return null;
        }

        var slot = await store.ReadSignedJsonAsync<Slot>(signer, newest.Key, cancellationToken).ConfigureAwait(false);
        // A slot that does not authenticate holds nothing: it names no operation anyone started.
        return (generation, slot.Trusted ? slot.Value!.Holder : string.Empty, newest);
    }

    private static long? Generation(string key) =>
        long.TryParse(key.AsSpan(key.LastIndexOf('/') + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var g) && g < 999_999_999_999 ? g : null;

    private async Task ForgetOldAsync(string database, long current, CancellationToken cancellationToken)
    {
        // Old generations only tell history; a few are kept for whoever is reading them right now.
        var old = new List<string>();
        await foreach (var item in store.ListAsync(Prefix + database + "/", cancellationToken).ConfigureAwait(false))
        {
            if (Generation(item.Key) is { } g && g < current - 4)
            {
                old.Add(item.Key);
            }
        }

        foreach (var key in old)
        {
            try
            {
                await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            }
            catch (Errors.SbkException)
            {
                // Best effort: an immutable store keeps them until their period ends; they only tell history.
            }
        }
    }

    internal sealed record Slot(string Holder);

    private static string Key(string database, long generation) => string.Create(CultureInfo.InvariantCulture, $"{Prefix}{database}/{generation:D12}");
}
