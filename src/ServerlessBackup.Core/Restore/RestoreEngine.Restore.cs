using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Backups;
using ServerlessBackup.Dump;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Restore;

public sealed partial class RestoreEngine
{
    /// <summary>
    /// Restores a backup. By default into a new scratch database (kept until its expiry, so it can
    /// be used); into an existing scratch copy of the same database by naming it; into a
    /// catalogued database only with a confirmation that repeats its name, after an emergency
    /// backup of it (label <c>emergency</c>) succeeded, and only once the whole archive has been
    /// downloaded and authenticated. Every byte pg_restore reads has authenticated first; an
    /// integrity failure drops a new scratch database. pg_restore's errors fail the restore
    /// unless tolerated.
    /// </summary>
    /// <exception cref="SbkException">A refusal (Configuration; nothing changed), a missing backup or table (NotFound), an integrity failure, or a failed restore.</exception>
    public async Task<RestoreResult> RestoreAsync(RestoreRequest request, IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var database = request.Database;
        var entry = backups.ResolveDatabase(database);
        if (request.Jobs is < 1 or > 64)
        {
            throw Refuse($"--jobs must be between 1 and 64, not {request.Jobs}.");
        }

        var clock = Stopwatch.StartNew();
        progress?.Report(new BackupProgress(BackupPhase.Preflight, 0, 0, clock.Elapsed));
        var details = await backups.ShowAsync(database, request.Backup, cancellationToken).ConfigureAwait(false);
        var backupId = details.Manifest.BackupId;
        var tables = ResolveTables(details, request.Tables);
        var tool = await SelectPgRestoreAsync(details.Manifest, cancellationToken).ConfigureAwait(false);
        var tolerated = entry.TolerateRestoreErrors.Concat(request.Tolerate).Where(t => t.Length > 0).ToList();
        var plan = new RunPlan(database, backupId, tool, tables, request.DataOnly, request.Jobs, tolerated);

        if (request.Target is null)
        {
            if (request.Confirm is not null)
            {
                throw Refuse("--confirm goes with --target: it must repeat the name of the database you restore into.");
            }

            if (request.DataOnly)
            {
                throw Refuse($"A data-only restore needs an existing schema to load into; a new scratch database is empty. Restore the whole backup to scratch first (sbk restore {database}), or give --target with an existing scratch copy or a catalogued database.");
            }

            var scratch = await OpenScratchAsync(database, entry, cancellationToken).ConfigureAwait(false);
            var now = time.GetUtcNow();
            var name = await scratch.CreateAsync(database, backupId, now, Ttl, cancellationToken).ConfigureAwait(false);
            logger.LogInformation("Restoring {Database} backup {BackupId} into scratch database {Scratch}", database, backupId, name);
            var outcome = await RunOrDropAsync(scratch, name, plan with { Connection = scratch.Admin, Target = name, Fresh = true }, request.Keep, progress, clock, cancellationToken).ConfigureAwait(false);
            return Result(plan, outcome, name, true, now + Ttl, null, clock);
        }

        var target = request.Target;
        if (ScratchNames.HasPrefix(target))
        {
            var scratch = await OpenScratchAsync(database, entry, cancellationToken).ConfigureAwait(false);
            var existing = await scratch.FindAsync(target, cancellationToken).ConfigureAwait(false)
                ?? throw Refuse($"There is no scratch database named '{BackupEngine.Sanitize(target)}' made by sbk on {scratch.Describe()}. See them with: sbk scratch list.");
            if (existing.SourceDatabase != database)
            {
                throw Refuse($"The scratch database '{target}' holds a copy of '{existing.SourceDatabase}', not of '{database}'; sbk will not mix two databases' data in one copy. Restore into a new scratch database instead (omit --target).");
            }

            if (tables.Count > 0 && !request.DataOnly)
            {
                throw Refuse(TableIntoExisting(database, target));
            }

            var outcome = await RunAsync(plan with { Connection = scratch.Admin, Target = target, Clean = !request.DataOnly }, progress, clock, cancellationToken).ConfigureAwait(false);
            ThrowIfFailed(outcome, plan, target);
            return Result(plan, outcome, target, true, existing.ExpiresAt, null, clock);
        }

        if (!options.Databases.TryGetValue(target, out var targetEntry))
        {
            throw Refuse($"'{BackupEngine.Sanitize(target)}' is neither a scratch database nor a catalogued database. sbk restores into scratch databases, or into a catalogued database (which it backs up first); add the target to the catalog if it really should be overwritten.");
        }

        if (request.Confirm is null)
        {
            throw Refuse($"Restoring into '{target}' overwrites a real database. To go ahead, repeat its name: --target {target} --confirm {target}. sbk will first take an emergency backup of '{target}' and stop if that fails.");
        }

        if (!string.Equals(request.Confirm, target, StringComparison.Ordinal))
        {
            throw Refuse($"--confirm '{BackupEngine.Sanitize(request.Confirm)}' does not repeat the target '{target}' exactly.");
        }

        if (tables.Count > 0 && !request.DataOnly)
        {
            throw Refuse(TableIntoExisting(database, target));
        }

        var targetConnection = PgConnectionInfo.FromSecret(await secrets.GetSecretAsync(targetEntry.ConnectionStringSecret!, null, cancellationToken).ConfigureAwait(false));
        Manifest emergency;
        try
        {
            emergency = await backups.BackupAsync(target, "emergency", progress, cancellationToken).ConfigureAwait(false);
        }
        catch (SbkException ex)
        {
            throw new SbkException(ex.Kind == SbkErrorKind.Integrity ? SbkErrorKind.Failed : ex.Kind,
                $"Refusing to restore into '{target}': its emergency backup failed, and sbk never overwrites a database it could not back up first. Nothing was changed. The backup failed with: {ex.Message}", ex.IsTransient, ex);
        }

        logger.LogInformation("Emergency backup {BackupId} of {Target} taken; restoring {Database} backup {Source} into it", emergency.BackupId, target, database, backupId);
        var result = await RunAsync(plan with { Connection = targetConnection, Target = targetConnection.Database, Clean = !request.DataOnly, LandFirst = true }, progress, clock, cancellationToken).ConfigureAwait(false);
        ThrowIfFailed(result, plan, target, emergency.BackupId);
        return Result(plan, result, target, false, null, emergency.BackupId, clock);
    }

    private static string TableIntoExisting(string database, string target) =>
        $"Restoring whole tables into the existing database '{target}' would drop and recreate them, losing their indexes and breaking foreign keys that point at them. Either restore the tables into a new scratch database (sbk restore {database} --table …) and copy rows from there, or empty them and load their data with --data-only.";

    private RestoreResult Result(RunPlan plan, RunOutcome outcome, string target, bool scratch, DateTimeOffset? expires, string? emergency, Stopwatch clock) =>
        new(plan.Database, plan.BackupId, target, scratch, expires, emergency, plan.Tables.Select(t => $"{t.Schema}.{t.Name}").ToList(), plan.DataOnly, plan.Jobs,
            outcome.Bytes, outcome.Messages.ToleratedCount, outcome.Messages.FirstTolerated, Timings(outcome, TimeSpan.Zero, clock.Elapsed));

    private static PhaseTimings Timings(RunOutcome? outcome, TimeSpan checks, TimeSpan total) =>
        new(Seconds(outcome?.Download ?? TimeSpan.Zero), Seconds(outcome?.Decrypt ?? TimeSpan.Zero), Seconds(outcome?.Restore ?? TimeSpan.Zero), Seconds(checks), Seconds(total));

    /// <summary>Runs into a new scratch database; drops it on an integrity failure, and on any other failure unless kept.</summary>
    private async Task<RunOutcome> RunOrDropAsync(ScratchServer scratch, string name, RunPlan plan, bool keep, IProgress<BackupProgress>? progress, Stopwatch clock, CancellationToken cancellationToken)
    {
        var drop = true;
        try
        {
            var outcome = await RunAsync(plan, progress, clock, cancellationToken).ConfigureAwait(false);
            drop = !outcome.Succeeded && !keep;
            ThrowIfFailed(outcome, plan, name, keptScratch: keep);
            return outcome;
        }
        catch (Exception ex) when (ex is not IntegrityException && keep)
        {
            drop = false;
            throw;
        }
        finally
        {
            if (drop)
            {
                await scratch.DropAsync(name, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private static void ThrowIfFailed(RunOutcome outcome, RunPlan plan, string target, string? emergency = null, bool keptScratch = false)
    {
        if (outcome.Succeeded)
        {
            return;
        }

        var m = outcome.Messages;
        var what = m.ErrorCount > 0
            ? $"pg_restore reported {m.ErrorCount} error(s){(m.ToleratedCount > 0 ? $" (and {m.ToleratedCount} tolerated)" : string.Empty)}; the first: {string.Join(" | ", m.FirstErrors)}"
            : $"pg_restore exited with code {outcome.ExitCode.ToString(CultureInfo.InvariantCulture)}: {(m.Other.Length > 0 ? m.Other.Trim() : "(no message)")}";
        var after = emergency is not null
            ? $" '{target}' may be partly restored; its state before is in emergency backup {emergency} (sbk restore {target} {emergency} --target {target} --confirm {target})."
            : ScratchNames.HasPrefix(target) && keptScratch ? $" The scratch database '{target}' was kept for inspection (--keep)." : string.Empty;
        throw new SbkException(SbkErrorKind.Failed,
            $"The restore of backup {plan.BackupId} ({plan.Database}) into '{target}' failed: {what}.{after} If an error is known and harmless (a provider-only extension, say), tolerate it with --tolerate TEXT or the catalog's TolerateRestoreErrors.");
    }
}
