using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Errors;
using ServerlessBackup.Notify;
using ServerlessBackup.Storage;

namespace ServerlessBackup.Schedules;

/// <summary>
/// The catalog that runs itself: which databases are due, and each database's freshness against
/// its recovery point objective (from its backups and its last attempt, which
/// <see cref="BackupEngine.BackupAsync(string, string?, IProgress{WorkProgress}?, CancellationToken)"/>
/// records). <see cref="RunDue"/> backs up every due database.
/// </summary>
public sealed class Scheduler
{
    private readonly SbkOptions options;
    private readonly BackupEngine backups;
    private readonly Notifier notifier;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    public Scheduler(SbkOptions options, BackupEngine backups, Notifier notifier, TimeProvider? time = null, ILogger<Scheduler>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backups);
        ArgumentNullException.ThrowIfNull(notifier);
        this.options = options;
        this.backups = backups;
        this.notifier = notifier;
        this.time = time ?? TimeProvider.System;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Whether a database with <paramref name="schedule"/> is due at <paramref name="now"/>: when a
    /// scheduled time has passed since its newest complete backup started (or it has none). A
    /// database that missed several slots is due once, not once per slot.
    /// </summary>
    public static DueCheck EvaluateDue(string database, CronSchedule? schedule, TimeZoneInfo zone, DateTimeOffset? lastBackupAt, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(zone);
        if (schedule is null)
        {
            return new DueCheck(database, false, "no schedule (manual backups only)", lastBackupAt, null, null);
        }

        var next = schedule.Next(now, zone);
        if (lastBackupAt is null)
        {
            return new DueCheck(database, true, "it has never been backed up", null, null, next);
        }

        var slot = schedule.Next(lastBackupAt.Value, zone);
        if (slot is { } missed && missed <= now)
        {
            var count = schedule.Occurrences(lastBackupAt.Value, now, zone, limit: 1000).Count();
            var reason = count > 1
                ? $"{count} scheduled backups were missed since {Format(lastBackupAt.Value)} (the first at {Format(missed)}); one backup catches up"
                : $"its scheduled backup at {Format(missed)} is due";
            return new DueCheck(database, true, reason, lastBackupAt, missed, next);
        }

        return new DueCheck(database, false, $"the next scheduled backup is at {(next is null ? "never" : Format(next.Value))}", lastBackupAt, null, next);
    }

    /// <summary>Every catalogued database's due check, from one listing of the store.</summary>
    public async Task<IReadOnlyList<DueCheck>> GetDueAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var newest = await NewestBackupsAsync(cancellationToken).ConfigureAwait(false);
        return options.Databases.OrderBy(d => d.Key, StringComparer.Ordinal)
            .Select(d => EvaluateDue(d.Key, d.Value.Schedule is { } s ? CronSchedule.Parse(s) : null, d.Value.Zone(), newest.GetValueOrDefault(d.Key)?.StartedAt, now))
            .ToList();
    }

    /// <summary>Every catalogued database's freshness.</summary>
    public async Task<IReadOnlyList<DatabaseStatus>> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var all = await backups.ListAsync(null, cancellationToken).ConfigureAwait(false);
        var result = new List<DatabaseStatus>();
        var attempts = new System.Collections.Concurrent.ConcurrentDictionary<string, BackupAttempt?>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(options.Databases.Keys, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (name, ct) => attempts[name] = await backups.ReadLastAttemptAsync(name, ct).ConfigureAwait(false)).ConfigureAwait(false);
        foreach (var (name, database) in options.Databases.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            var mine = all.Where(b => b.Database == name).ToList();
            var last = mine.FirstOrDefault();
            var verified = mine.FirstOrDefault(b => b.Verified is not null);
            var attempt = attempts.GetValueOrDefault(name);
            var rpo = database.RpoHours(now);
            var age = last is null ? (double?)null : Math.Round((now - last.StartedAt).TotalHours, 2);
            var next = database.Schedule is { } s ? CronSchedule.Parse(s).Next(now, database.Zone()) : null;
            FreshnessState state;
            string summary;
            if (attempt is { Succeeded: false } failed && (last is null || failed.At > last.StartedAt))
            {
                state = FreshnessState.Failing;
                summary = $"the last backup attempt ({Format(failed.At)}) failed ({failed.ErrorKind}); run 'sbk backup {name}' to see why";
            }
            else if (last is null)
            {
                state = FreshnessState.Late;
                summary = $"it has no complete backup; run 'sbk backup {name}'";
            }
            else if (age > rpo)
            {
                state = FreshnessState.Late;
                summary = $"its newest backup is {age:0.#} h old, over its {rpo:0.#} h recovery point objective";
            }
            else
            {
                state = FreshnessState.Ok;
                summary = $"newest backup {age:0.#} h old (objective {rpo:0.#} h)";
            }

            result.Add(new DatabaseStatus(name, state, summary, last?.BackupId, last?.StartedAt, age, verified?.BackupId,
                verified is null ? null : Math.Round((now - verified.StartedAt).TotalHours, 2), verified?.Verified?.VerifiedAt,
                verified?.Verified?.Level, rpo, database.Schedule, next, attempt));
        }

        return result;
    }

    /// <summary>Notifies the team of every database that is not OK; returns how many notifications were sent.</summary>
    public async Task<int> NotifyUnhealthyAsync(IReadOnlyList<DatabaseStatus> statuses, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(statuses);
        var sent = 0;
        foreach (var s in statuses.Where(s => s.State == FreshnessState.Late))
        {
            sent += await notifier.NotifyAsync(new Notification("database-late", s.Database, $"'{s.Database}' is late", s.Summary, $"sbk backup {s.Database}", time.GetUtcNow()), cancellationToken).ConfigureAwait(false) > 0 ? 1 : 0;
        }

        return sent;
    }

    private async Task<Dictionary<string, BackupSummary>> NewestBackupsAsync(CancellationToken cancellationToken)
    {
        var newest = new Dictionary<string, BackupSummary>(StringComparer.Ordinal);
        foreach (var b in await backups.ListAsync(null, cancellationToken).ConfigureAwait(false))
        {
            newest.TryAdd(b.Database, b); // newest first
        }

        return newest;
    }

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
