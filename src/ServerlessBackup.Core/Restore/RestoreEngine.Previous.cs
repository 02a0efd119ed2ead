using Microsoft.Extensions.Logging;
using ServerlessBackup.Backups;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Restore;

public sealed partial class RestoreEngine
{
    /// <summary>
    /// The databases that restores into catalogued databases replaced and kept (newest first), for
    /// one catalogued database or all; a server that cannot be reached is named in the problems
    /// and the others are still listed.
    /// </summary>
    public async Task<(IReadOnlyList<PreviousDatabase> Previous, IReadOnlyList<string> Problems)> ListPreviousAsync(string? database = null, CancellationToken cancellationToken = default)
    {
        var previous = new List<PreviousDatabase>();
        var problems = new List<string>();
        foreach (var name in database is null ? options.Databases.Keys.Order(StringComparer.Ordinal).ToList() : [database])
        {
            try
            {
                var server = await TargetServer.OpenAsync(name, backups.ResolveDatabase(name), secrets, cancellationToken).ConfigureAwait(false);
                previous.AddRange((await server.ListBesideAsync(cancellationToken).ConfigureAwait(false)).Previous);
            }
            catch (SbkException ex) when (database is null)
            {
                problems.Add($"{name}: {ex.Message}");
            }
        }

        return (previous.OrderByDescending(p => p.SwappedAt).ToList(), problems);
    }

    /// <summary>
    /// Undoes a restore into <paramref name="database"/>: swaps the database it replaced (the
    /// newest, or <paramref name="previousName"/>) back in, under the database's lock. The database
    /// swapped out is kept in turn, so a swap back can itself be undone.
    /// </summary>
    /// <returns>The database swapped back in (as it was listed), and the one now kept aside.</returns>
    /// <exception cref="SbkException">NotFound: nothing kept for it; AlreadyRunning: a backup or restore of it is running.</exception>
    public async Task<(PreviousDatabase Restored, PreviousDatabase Aside)> SwapBackAsync(string database, string? previousName = null, CancellationToken cancellationToken = default)
    {
        var server = await TargetServer.OpenAsync(database, backups.ResolveDatabase(database), secrets, cancellationToken).ConfigureAwait(false);
        await using var databaseLock = await backups.LockDatabaseAsync(database, cancellationToken).ConfigureAwait(false);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, databaseLock.Lost);
        var kept = (await server.ListBesideAsync(linked.Token).ConfigureAwait(false)).Previous;
        var chosen = previousName is null ? kept.FirstOrDefault() : kept.FirstOrDefault(p => p.Name == previousName);
        if (chosen is null)
        {
            throw new SbkException(SbkErrorKind.NotFound, previousName is null
                ? $"No replaced copy of '{database}' is kept on {server.Describe()} (it expired, was dropped, or no restore replaced it; Scratch:KeepPreviousHours sets how long they are kept). Its emergency backups are still in the store: sbk list {database}"
                : $"There is no replaced copy of '{database}' named '{BackupEngine.Sanitize(previousName)}' on {server.Describe()}. See them with: sbk previous list {database}");
        }

        var now = time.GetUtcNow();
        var restoreId = SwapNames.NewRestoreId(now);
        var aside = SwapNames.Previous(server.DatabaseName, restoreId);
        var keep = TimeSpan.FromHours(Math.Max(options.Scratch.KeepPreviousHours, 1));
        var comment = await server.ReadCommentAsync(linked.Token).ConfigureAwait(false);
        await server.SwapInAsync(chosen.Name, aside, SwapNames.PreviousMarker(database, server.DatabaseName, restoreId, chosen.BackupId, now, keep, comment), chosen.OwnComment, linked.Token).ConfigureAwait(false);
        logger.LogInformation("Swapped {Previous} back in as {Database}; the database it replaced is kept as {Aside}", chosen.Name, database, aside);
        return (chosen, new PreviousDatabase(aside, database, server.DatabaseName, restoreId, chosen.BackupId, now, now + keep, 0));
    }

    /// <summary>Drops one kept replaced database of <paramref name="database"/> now.</summary>
    /// <exception cref="SbkException">NotFound: no such kept database.</exception>
    public async Task<PreviousDatabase> DropPreviousAsync(string database, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var server = await TargetServer.OpenAsync(database, backups.ResolveDatabase(database), secrets, cancellationToken).ConfigureAwait(false);
        var found = (await server.ListBesideAsync(cancellationToken).ConfigureAwait(false)).Previous.FirstOrDefault(p => p.Name == name)
            ?? throw new SbkException(SbkErrorKind.NotFound, $"There is no replaced copy of '{database}' named '{BackupEngine.Sanitize(name)}' on {server.Describe()}; sbk drops only databases it kept (prefix {SwapNames.PreviousPrefix} and its marker). See them with: sbk previous list {database}");
        await server.DropAsync(found.Name, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Dropped {Previous}, a replaced copy of {Database}", found.Name, database);
        return found;
    }

    /// <summary>
    /// Drops every expired replaced database, and every incoming copy left by a restore that no
    /// longer runs (its database's lock is free), on the servers of all catalogued databases (or,
    /// with <paramref name="dryRun"/>, only says which). Unreachable servers are named in the problems.
    /// </summary>
    public async Task<(IReadOnlyList<string> Dropped, IReadOnlyList<string> Problems)> SweepPreviousAsync(bool dryRun = false, CancellationToken cancellationToken = default)
    {
        var dropped = new List<string>();
        var problems = new List<string>();
        var now = time.GetUtcNow();
        foreach (var name in options.Databases.Keys.Order(StringComparer.Ordinal))
        {
            try
            {
                var server = await TargetServer.OpenAsync(name, backups.ResolveDatabase(name), secrets, cancellationToken).ConfigureAwait(false);
                var (previous, incoming) = await server.ListBesideAsync(cancellationToken).ConfigureAwait(false);
                var doomed = previous.Where(p => p.IsExpiredAt(now)).Select(p => p.Name).ToList();
                if (incoming.Count > 0)
                {
                    // An incoming copy is in use while its restore holds the database's lock.
                    await using var free = await backups.TryLockDatabaseAsync(name, cancellationToken).ConfigureAwait(false);
                    if (free is not null)
                    {
                        doomed.AddRange(incoming);
                    }
                }

                foreach (var database in doomed)
                {
                    if (!dryRun)
                    {
                        await server.DropAsync(database, cancellationToken).ConfigureAwait(false);
                        logger.LogInformation("Swept {Name} beside {Database}", database, name);
                    }

                    dropped.Add(database);
                }
            }
            catch (SbkException ex)
            {
                problems.Add($"{name}: {ex.Message}");
            }
        }

        return (dropped, problems);
    }
}
