using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Errors;
using ServerlessBackup.Notify;
using ServerlessBackup.Storage;

namespace ServerlessBackup.Retention;

/// <summary>
/// Applies retention: deletes the backups the rules let go (manifest first, so the backup stops
/// existing at once; then its archive and the rest), sweeps the leftovers of crashed backups and
/// deletions, and puts and lifts holds. A crash between the two deletions leaves only an orphan
/// archive, which the next prune sweeps.
/// </summary>
public sealed class RetentionEngine
{
    private readonly SbkOptions options;
    private readonly BackupEngine backups;
    private readonly IObjectStore store;
    private readonly Crypto.StateSigner signer;
    private readonly Notifier notifier;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    /// <summary>Applies the catalog's rules to the backups in <paramref name="store"/>; holds and releases are signed by <paramref name="signer"/>.</summary>
    public RetentionEngine(SbkOptions options, BackupEngine backups, IObjectStore store, Crypto.StateSigner signer, Notifier notifier, TimeProvider? time = null, ILogger<RetentionEngine>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backups);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(notifier);
        this.options = options;
        this.backups = backups;
        this.store = store;
        this.signer = signer;
        this.notifier = notifier;
        this.time = time ?? TimeProvider.System;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Prunes one database, or every catalogued database.</summary>
    public async Task<IReadOnlyList<PruneReport>> PruneAsync(string? database = null, bool dryRun = false, CancellationToken cancellationToken = default)
    {
        var names = database is null ? options.Databases.Keys.Order(StringComparer.Ordinal).ToList() : [database];
        var reports = new List<PruneReport>();
        foreach (var name in names)
        {
            reports.Add(await PruneOneAsync(name, backups.ResolveDatabase(name), dryRun, cancellationToken).ConfigureAwait(false));
        }

        return reports;
    }

    private async Task<PruneReport> PruneOneAsync(string database, DatabaseOptions entry, bool dryRun, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var rules = entry.Retention;
        var objects = await ObjectsByBackupAsync(database, cancellationToken).ConfigureAwait(false);
        var summaries = await backups.ListAsync(database, cancellationToken).ConfigureAwait(false);
        var candidates = new List<RetentionCandidate>();
        foreach (var b in summaries)
        {
            var names = objects.GetValueOrDefault(b.BackupId);
            // A hold is honoured even unsigned (a forged one only keeps more); a release only when it authenticates.
            var released = names?.ContainsKey("released") == true && await IsReleasedAsync(database, b.BackupId, cancellationToken).ConfigureAwait(false);
            candidates.Add(new RetentionCandidate(b.BackupId, b.StartedAt, b.Label, names?.ContainsKey("hold") == true, released, b.Verified is not null));
        }

        var decisions = rules is null
            ? candidates.Select(c => new RetentionDecision(c.BackupId, c.At, c.Label, true, "no retention rules for this database (everything is kept)")).ToList()
            : RetentionPolicy.Evaluate(candidates, rules, now, entry.Zone());

        // What the store itself protects (a legal hold, an immutability period) is never attempted: the store would refuse it anyway.
        decisions = decisions.Select(d => d.Keep || Protection(objects.GetValueOrDefault(d.BackupId), now) is not { } why ? d : d with { Keep = true, Rule = why }).ToList();

        var safety = TimeSpan.FromHours(rules?.OrphanSafetyHours ?? 48);
        var orphans = objects.Where(o => !o.Value.ContainsKey("manifest.json") && BackupTime(o.Key) is { } at && now - at > safety && Protection(o.Value, now) is null).Select(o => o.Key).Order(StringComparer.Ordinal).ToList();
        var deleted = 0;
        var partials = 0;
        if (!dryRun)
        {
            foreach (var decision in decisions.Where(d => !d.Keep))
            {
                await DeleteBackupAsync(database, decision.BackupId, objects[decision.BackupId], cancellationToken).ConfigureAwait(false);
                logger.LogInformation("Deleted backup {BackupId} of {Database}: {Rule}", decision.BackupId, database, decision.Rule);
                deleted++;
            }

            if (orphans.Count > 0)
            {
                // A backup in progress holds the database's lock; its archive (committed a moment before its manifest) is never swept.
                await using var writerLock = await backups.TryLockDatabaseAsync(database, cancellationToken).ConfigureAwait(false);
                if (writerLock is null)
                {
                    logger.LogInformation("A backup of {Database} is running; its crashed backups are swept next time.", database);
                    orphans = [];
                }

                foreach (var orphan in orphans)
                {
                    await DeleteBackupAsync(database, orphan, objects[orphan], cancellationToken).ConfigureAwait(false);
                    logger.LogInformation("Swept the leftovers of backup {BackupId} of {Database} (no manifest, older than {Hours} h)", orphan, database, safety.TotalHours);
                }
            }

            partials = await store.SweepAbandonedWritesAsync(BackupLayout.DatabasePrefix(database), safety, cancellationToken).ConfigureAwait(false);
            if (partials > 0)
            {
                logger.LogInformation("Swept {Count} unfinished upload(s) of {Database} older than {Hours} h", partials, database, safety.TotalHours);
            }

            if (rules is not null)
            {
                await TrackStallAsync(database, rules, decisions, deleted, now, cancellationToken).ConfigureAwait(false);
            }
        }

        return new PruneReport(database, rules is not null, dryRun, decisions, orphans, deleted) { PartialsSwept = partials };
    }

    /// <summary>
    /// Puts a hold on a backup: retention never deletes it until released. Where the store has legal
    /// holds (a container with version-level immutability), its archive and manifest get one too,
    /// so that nobody, not only retention, can delete them.
    /// </summary>
    /// <returns>The backup id, and whether the store holds it as well.</returns>
    public async Task<(string BackupId, bool StoreHold)> HoldAsync(string database, string backupIdOrLatest, CancellationToken cancellationToken = default)
    {
        var backupId = await backups.ResolveBackupIdAsync(database, backupIdOrLatest, cancellationToken).ConfigureAwait(false);
        await store.WriteSignedJsonAsync(signer, BackupLayout.Hold(database, backupId), new Marker("hold", time.GetUtcNow()), overwrite: true, cancellationToken).ConfigureAwait(false);
        var held = await SetLegalHoldAsync(database, backupId, hold: true, cancellationToken).ConfigureAwait(false);
        return (backupId, held);
    }

    /// <summary>Lifts a hold (and the store's legal hold), and releases a backup kept "until released" by its label's rule; retention decides its fate from then on.</summary>
    public async Task<(string BackupId, bool StoreHold)> ReleaseAsync(string database, string backupId, CancellationToken cancellationToken = default)
    {
        backupId = await backups.ResolveBackupIdAsync(database, backupId, cancellationToken).ConfigureAwait(false);
        await store.WriteSignedJsonAsync(signer, BackupLayout.Released(database, backupId), new Marker("released", time.GetUtcNow()), overwrite: true, cancellationToken).ConfigureAwait(false);
        await store.DeleteAsync(BackupLayout.Hold(database, backupId), cancellationToken).ConfigureAwait(false);
        var cleared = await SetLegalHoldAsync(database, backupId, hold: false, cancellationToken).ConfigureAwait(false);
        return (backupId, cleared);
    }

    /// <summary>Whether the backup's release marker authenticates (a forged one, even create-only, releases nothing).</summary>
    private async Task<bool> IsReleasedAsync(string database, string backupId, CancellationToken cancellationToken)
    {
        var read = await store.ReadSignedJsonAsync<Marker>(signer, BackupLayout.Released(database, backupId), cancellationToken).ConfigureAwait(false);
        if (read.Problem is { } problem)
        {
            logger.LogWarning("[sbk.untrusted-object] {Problem} Backup {BackupId} of {Database} stays kept until 'sbk release' releases it.", problem, backupId, database);
        }

        return read.Trusted && read.Value!.Kind == "released";
    }

    /// <summary>A hold or release marker: what, and when.</summary>
    internal sealed record Marker(string Kind, DateTimeOffset At);

    private async Task<bool> SetLegalHoldAsync(string database, string backupId, bool hold, CancellationToken cancellationToken)
    {
        var archive = await store.TrySetLegalHoldAsync(BackupLayout.Archive(database, backupId), hold, cancellationToken).ConfigureAwait(false);
        var manifest = archive && await store.TrySetLegalHoldAsync(BackupLayout.Manifest(database, backupId), hold, cancellationToken).ConfigureAwait(false);
        return archive && manifest;
    }

    /// <summary>Why the store would refuse to delete a backup now (its archive or manifest is held or immutable), or null.</summary>
    private static string? Protection(Dictionary<string, ObjectInfo>? objects, DateTimeOffset now)
    {
        var protectedObjects = objects?.Values.Where(o => o.IsProtectedAt(now)).ToList() ?? [];
        if (protectedObjects.Count == 0)
        {
            return null;
        }

        return protectedObjects.Any(o => o.LegalHold)
            ? "kept: a legal hold in the store protects it (sbk release lifts it)"
            : $"kept: the store keeps it immutable until {protectedObjects.Max(o => o.ImmutableUntil)!.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC";
    }

    /// <summary>The manifest first (the backup stops existing), then the archive, then the rest.</summary>
    private async Task DeleteBackupAsync(string database, string backupId, Dictionary<string, ObjectInfo> names, CancellationToken cancellationToken)
    {
        await store.DeleteAsync(BackupLayout.Manifest(database, backupId), cancellationToken).ConfigureAwait(false);
        await store.DeleteAsync(BackupLayout.Archive(database, backupId), cancellationToken).ConfigureAwait(false);
        foreach (var name in names.Keys.Where(n => n is not ("manifest.json" or "archive")))
        {
            await store.DeleteAsync($"{database}/{backupId}/{name}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The objects under each backup id of a database, by name.</summary>
    private async Task<Dictionary<string, Dictionary<string, ObjectInfo>>> ObjectsByBackupAsync(string database, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, Dictionary<string, ObjectInfo>>(StringComparer.Ordinal);
        await foreach (var item in store.ListAsync(BackupLayout.DatabasePrefix(database), cancellationToken).ConfigureAwait(false))
        {
            var parts = item.Key.Split('/');
            if (parts.Length == 3 && BackupId.IsValid(parts[1]))
            {
                if (!result.TryGetValue(parts[1], out var names))
                {
                    result[parts[1]] = names = new Dictionary<string, ObjectInfo>(StringComparer.Ordinal);
                }

                names[parts[2]] = item;
            }
        }

        return result;
    }

    private static DateTimeOffset? BackupTime(string backupId) =>
        DateTimeOffset.TryParseExact(backupId[..16], "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    /// <summary>Notifies when pruning has deleted nothing for StalledAfterDays while backups keep accumulating (rules that never let anything go).</summary>
    private async Task TrackStallAsync(string database, RetentionOptions rules, IReadOnlyList<RetentionDecision> decisions, int deleted, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var key = BackupLayout.RetentionState(database);
        var state = await store.ReadJsonAsync<RetentionState>(key, cancellationToken).ConfigureAwait(false);

        var since = state?.LastDeletionAt ?? state?.FirstPruneAt ?? now;
        var next = deleted > 0
            ? new RetentionState(state?.FirstPruneAt ?? now, now, decisions.Count - deleted, state?.StallNotifiedAt)
            : state ?? new RetentionState(now, null, decisions.Count, null);
        if (deleted == 0 && (now - since).TotalDays >= rules.StalledAfterDays && decisions.Count > next.KeptAfterLastDeletion
            && (next.StallNotifiedAt is null || (now - next.StallNotifiedAt.Value).TotalDays >= rules.StalledAfterDays))
        {
            await notifier.NotifyAsync(new Notification("retention-stalled", database, $"Retention of '{database}' has deleted nothing for {(now - since).TotalDays:0} days",
                $"{decisions.Count} backups are kept (there were {next.KeptAfterLastDeletion}); storage keeps growing. Check its rules (labels kept until released, holds).",
                $"sbk prune {database} --dry-run", now), cancellationToken).ConfigureAwait(false);
            next = next with { StallNotifiedAt = now };
        }

        await store.WriteJsonAsync(key, next, cancellationToken).ConfigureAwait(false);
    }

    internal sealed record RetentionState(DateTimeOffset FirstPruneAt, DateTimeOffset? LastDeletionAt, int KeptAfterLastDeletion, DateTimeOffset? StallNotifiedAt);
}
