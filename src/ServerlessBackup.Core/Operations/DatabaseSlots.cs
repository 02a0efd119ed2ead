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
/// never deleted to be released, so no instance can free another's slot by mistake.
/// </summary>
internal sealed class DatabaseSlots(IObjectStore store, TimeProvider time)
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
            if (newest is { } held)
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
            if (await store.PutAsync(Key(database, next), Encoding.UTF8.GetBytes(operationId), overwrite: false, null, cancellationToken).ConfigureAwait(false))
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
        await foreach (var item in store.ListAsync(Prefix + database + "/", cancellationToken).ConfigureAwait(false))
        {
            newest = item; // ordinal order, generations are zero-padded
        }

        if (newest is null)
        {
            return null;
        }

        await using var stream = await store.OpenReadAsync(newest.Key, cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var holder = (await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false)).Trim();
        return (long.Parse(newest.Key[(newest.Key.LastIndexOf('/') + 1)..], CultureInfo.InvariantCulture), holder, newest);
    }

    private async Task ForgetOldAsync(string database, long current, CancellationToken cancellationToken)
    {
        // Old generations only tell history; a few are kept for whoever is reading them right now.
        var old = new List<string>();
        await foreach (var item in store.ListAsync(Prefix + database + "/", cancellationToken).ConfigureAwait(false))
        {
            if (long.Parse(item.Key[(item.Key.LastIndexOf('/') + 1)..], CultureInfo.InvariantCulture) < current - 4)
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

    private static string Key(string database, long generation) => string.Create(CultureInfo.InvariantCulture, $"{Prefix}{database}/{generation:D12}");
}
