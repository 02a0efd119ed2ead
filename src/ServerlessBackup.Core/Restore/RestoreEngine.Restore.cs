using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Dump;
using ServerlessBackup.Errors;
using ServerlessBackup.Verify;

namespace ServerlessBackup.Restore;

public sealed partial class RestoreEngine
{
    /// <summary>
    /// Restores a backup. By default into a new scratch database (kept until its expiry, so it can
    /// be used). Into an existing scratch copy of the same database by naming it: the backup goes
    /// into a new scratch database that replaces the copy only once it restored. Into a catalogued
    /// database only with a confirmation that repeats its name, under the database's lock (no
    /// backup, restore or swap of it runs meanwhile), after an emergency backup of it (label
    /// <c>emergency</c>) succeeded: the backup is restored into a new database beside it, checked
    /// (census and assertions), and swapped in atomically; the replaced database is kept for
    /// Scratch:KeepPreviousHours so that a swap back undoes the restore. Where the server does not
    /// allow that, the refusal says so before anything changed and names <see cref="RestoreRequest.InPlace"/>.
    /// Restores into an existing database in place (data-only, or --in-place) run in one
    /// transaction. Every byte pg_restore reads has authenticated first; nothing half-made is left
    /// behind on failure or cancellation.
    /// </summary>
    /// <exception cref="SbkException">A refusal (Configuration; nothing changed), a missing backup or table (NotFound), AlreadyRunning, an integrity failure, or a failed restore.</exception>
    /// <exception cref="CancelledException">Cancelled, after undoing what was started; its message says what.</exception>
    public async Task<RestoreResult> RestoreAsync(RestoreRequest request, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var undo = new UndoNote();
        try
        {
            return await RestoreAsync(request, progress, undo, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw new CancelledException($"The restore stopped: {undo.Text}.", ex);
        }
    }

    private async Task<RestoreResult> RestoreAsync(RestoreRequest request, IProgress<WorkProgress>? progress, UndoNote undo, CancellationToken cancellationToken)
    {
        var database = request.Database;
        var entry = backups.ResolveDatabase(database);
        if (request.Jobs is < 1 or > 64)
        {
            throw Refuse($"--jobs must be between 1 and 64, not {request.Jobs}.");
        }

        var clock = Stopwatch.StartNew();
        progress?.Report(new WorkProgress(WorkPhase.Preflight, 0, 0, clock.Elapsed));

        // Asked while the manifest is read (each a process start or a secret read); their errors still come after the manifest's.
        var programs = FindPgRestoreProgramsAsync(cancellationToken);
        var opening = request is { Target: null, DataOnly: false, Confirm: null, InPlace: false } ? Early(OpenScratchAsync(database, entry, cancellationToken)) : null;
        var details = request.Before is { } before
            ? await backups.ShowBeforeAsync(database, before, cancellationToken).ConfigureAwait(false)
            : await backups.ShowAsync(database, request.Backup, cancellationToken).ConfigureAwait(false);
        var backupId = details.Manifest.BackupId;
        var tables = ResolveTables(details, request.Tables);
        var tool = await SelectPgRestoreAsync(details.Manifest, programs, cancellationToken).ConfigureAwait(false);
        var tolerated = entry.TolerateRestoreErrors.Concat(request.Tolerate).Where(t => t.Length > 0).ToList();
        var plan = new RunPlan(database, backupId, tool, tables, request.DataOnly, request.Jobs ?? entry.RestoreJobs, tolerated);

        if (request.Target is null)
        {
            if (request.Confirm is not null || request.InPlace)
            {
                throw Refuse("--confirm and --in-place go with --target: they are about the database you restore into.");
            }

            if (request.DataOnly)
            {
                throw Refuse($"A data-only restore needs an existing schema to load into; a new scratch database is empty. Restore the whole backup to scratch first (sbk restore {database}), or give --target with an existing scratch copy or a catalogued database.");
            }

            var scratch = await (opening ?? OpenScratchAsync(database, entry, cancellationToken)).ConfigureAwait(false);
            var (name, outcome, expires) = await RestoreToNewScratchAsync(scratch, plan, request.Keep, progress, clock, undo, cancellationToken).ConfigureAwait(false);
            return Result(plan, outcome, name, true, expires, null, clock);
        }

        var target = request.Target;
        if (ScratchNames.HasPrefix(target))
        {
            return await RestoreIntoScratchCopyAsync(request, plan, entry, progress, clock, undo, cancellationToken).ConfigureAwait(false);
        }

        if (!options.Databases.TryGetValue(target, out var targetEntry))
        {
            throw Refuse($"'{BackupEngine.Sanitize(target)}' is neither a scratch database nor a catalogued database. sbk restores into scratch databases, or into a catalogued database (which it backs up first); add the target to the catalog if it really should be overwritten.");
        }

        if (request.Confirm is null)
        {
            throw Refuse($"Restoring into '{target}' replaces a real database. To go ahead, repeat its name: --target {target} --confirm {target}. sbk will first take an emergency backup of '{target}' and stop if that fails.");
        }

        if (!string.Equals(request.Confirm, target, StringComparison.Ordinal))
        {
            throw Refuse($"--confirm '{BackupEngine.Sanitize(request.Confirm)}' does not repeat the target '{target}' exactly.");
        }

        if (tables.Count > 0 && !request.DataOnly)
        {
            throw Refuse(TableIntoExisting(database, target));
        }

        var server = await TargetServer.OpenAsync(target, targetEntry, secrets, cancellationToken).ConfigureAwait(false);
        var swap = !request.DataOnly && !request.InPlace;
        if (swap && await server.WhyNotSwapAsync(cancellationToken).ConfigureAwait(false) is { } whyNot)
        {
            throw Refuse($"sbk restores into a real database by restoring into a new database beside it on {server.Describe()}, checking it, and swapping it in, and it cannot do that here: {whyNot}. Fix that, or restore in place with --in-place: '{target}' is then restored in one transaction (a failure changes nothing, but no parallel jobs, tolerated errors or swap back), after the same emergency backup.");
        }

        if (!swap)
        {
            RequireOneTransaction(request, target);
            plan = plan with { Jobs = 1 };
        }

        // One backup, restore or swap of the target at a time, whichever host runs it; held to the end.
        await using var targetLock = await backups.LockDatabaseAsync(target, cancellationToken).ConfigureAwait(false);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, targetLock.Lost);
        var token = linked.Token;
        undo.Text = $"nothing was changed: '{target}' was not touched and its unfinished emergency backup was not stored";
        try
        {
            return await RestoreIntoTargetAsync(server, swap, request, plan, entry, details, targetLock, progress, clock, undo, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (targetLock.Lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new SbkException(SbkErrorKind.Failed, $"The restore into '{target}' lost its lock in the store (the lease could not be renewed) and stopped: {undo.Text}. Try again.", isTransient: true, ex);
        }
    }

    /// <summary>The emergency backup, then the restore by swap or in one transaction, under the target's lock.</summary>
    private async Task<RestoreResult> RestoreIntoTargetAsync(TargetServer server, bool swap, RestoreRequest request, RunPlan plan, DatabaseOptions entry, BackupDetails details, Storage.IStoreLock targetLock, IProgress<WorkProgress>? progress, Stopwatch clock, UndoNote undo, CancellationToken token)
    {
        var target = server.Catalog;
        var database = plan.Database;
        var backupId = plan.BackupId;
        Manifest emergency;
        try
        {
            emergency = await backups.BackupAsync(target, "emergency", progress, targetLock, token).ConfigureAwait(false);
        }
        catch (SbkException ex)
        {
            throw new SbkException(ex.Kind == SbkErrorKind.Integrity ? SbkErrorKind.Failed : ex.Kind,
                $"Refusing to restore into '{target}': its emergency backup failed, and sbk never overwrites a database it could not back up first. Nothing was changed. The backup failed with: {ex.Message}", ex.IsTransient, ex);
        }

        undo.Text = $"'{target}' was left as it was (its emergency backup {emergency.BackupId} was kept)";
        logger.LogInformation("Emergency backup {BackupId} of {Target} taken; restoring {Database} backup {Source} {How}", emergency.BackupId, target, database, backupId, swap ? "beside it, to swap in" : "into it in one transaction");
        if (!swap)
        {
            undo.Text = $"'{target}' was left as it was: its one transaction was rolled back and the temporary files removed (its emergency backup {emergency.BackupId} was kept)";
            var outcome = await RunAsync(plan with { Connection = server.Connection, Target = server.DatabaseName, Clean = !request.DataOnly, LandFirst = true, OneTransaction = true, KeepPrivileges = true }, progress, clock, token).ConfigureAwait(false);
            ThrowIfFailed(outcome, plan, target, $" '{target}' was not changed: the restore ran in one transaction, which was rolled back.");
            return Result(plan, outcome, target, false, null, emergency.BackupId, clock);
        }

        undo.Text = $"'{target}' was left as it was, the copy being restored beside it was dropped and the temporary files removed (its emergency backup {emergency.BackupId} was kept)";
        return await SwapInAsync(server, plan, entry, details, emergency.BackupId, progress, clock, token).ConfigureAwait(false);
    }

    /// <summary>Restores into a new database beside the target, checks it, swaps it in; drops it on any failure, leaving the target as it was.</summary>
    private async Task<RestoreResult> SwapInAsync(TargetServer server, RunPlan plan, DatabaseOptions entry, BackupDetails details, string emergencyId, IProgress<WorkProgress>? progress, Stopwatch clock, CancellationToken cancellationToken)
    {
        var target = server.Catalog;
        var now = time.GetUtcNow();
        var restoreId = SwapNames.NewRestoreId(now);
        var incoming = SwapNames.Incoming(server.DatabaseName, restoreId);
        var unchanged = $" '{target}' was not changed; the emergency backup {emergencyId} is there as well.";
        var swapped = false;
        try
        {
            var notes = await server.CreateIncomingAsync(incoming, SwapNames.IncomingMarker(target, server.DatabaseName, restoreId, plan.BackupId, now), cancellationToken).ConfigureAwait(false);
            var outcome = await RunAsync(plan with { Connection = server.Connection, Target = incoming, Fresh = true, LandFirst = true, KeepPrivileges = true }, progress, clock, cancellationToken).ConfigureAwait(false);
            ThrowIfFailed(outcome, plan, target, unchanged);

            progress?.Report(new WorkProgress(WorkPhase.Checking, outcome.Bytes, outcome.Bytes, clock.Elapsed));
            await using (var copy = await server.ConnectAsync(incoming, cancellationToken).ConfigureAwait(false))
            {
                var checks = await CheckCopyAsync(copy, plan.Database, entry, details, VerificationLevel.Assertions, cancellationToken).ConfigureAwait(false);
                if (checks.Checks.Where(c => !c.Passed).ToList() is { Count: > 0 } failed)
                {
                    throw new SbkException(SbkErrorKind.Failed,
                        $"The restore of backup {plan.BackupId} ({plan.Database}) into a new database beside '{target}' finished, but the copy failed {failed.Count} check(s), so it was not swapped in; the first: {Describe(failed[0])}.{unchanged} See the whole report with: sbk verify {plan.Database} {plan.BackupId}");
                }
            }

            progress?.Report(new WorkProgress(WorkPhase.Swapping, outcome.Bytes, outcome.Bytes, clock.Elapsed));
            var comment = await server.ReadCommentAsync(cancellationToken).ConfigureAwait(false);
            var keep = TimeSpan.FromHours(options.Scratch.KeepPreviousHours);
            var swappedAt = time.GetUtcNow();
            var aside = SwapNames.Previous(server.DatabaseName, restoreId);
            await server.SwapInAsync(incoming, aside, SwapNames.PreviousMarker(target, server.DatabaseName, restoreId, plan.BackupId, swappedAt, keep, comment), comment, cancellationToken).ConfigureAwait(false);
            swapped = true;
            logger.LogInformation("Swapped the restored copy of {Database} backup {BackupId} in as {Target}; the replaced database is {Previous}", plan.Database, plan.BackupId, target, aside);

            PreviousDatabase? previous = new(aside, target, server.DatabaseName, restoreId, plan.BackupId, swappedAt, swappedAt + keep, 0);
            if (keep <= TimeSpan.Zero)
            {
                await server.DropAsync(aside, CancellationToken.None).ConfigureAwait(false);
                previous = null;
            }

            return Result(plan, outcome, target, false, null, emergencyId, clock) with { Previous = previous, Notes = notes };
        }
        finally
        {
            if (!swapped)
            {
                await DropBesideQuietlyAsync(server, incoming).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Restores into a new scratch copy, then puts it in the place of the named one (data-only: into it, in one transaction).</summary>
    private async Task<RestoreResult> RestoreIntoScratchCopyAsync(RestoreRequest request, RunPlan plan, DatabaseOptions entry, IProgress<WorkProgress>? progress, Stopwatch clock, UndoNote undo, CancellationToken cancellationToken)
    {
        var target = request.Target!;
        var scratch = await OpenScratchAsync(plan.Database, entry, cancellationToken).ConfigureAwait(false);
        var existing = await scratch.FindAsync(target, cancellationToken).ConfigureAwait(false)
            ?? throw Refuse($"There is no scratch database named '{BackupEngine.Sanitize(target)}' made by sbk on {scratch.Describe()}. See them with: sbk scratch list.");
        if (existing.SourceDatabase != plan.Database)
        {
            throw Refuse($"The scratch database '{target}' holds a copy of '{existing.SourceDatabase}', not of '{plan.Database}'; sbk will not mix two databases' data in one copy. Restore into a new scratch database instead (omit --target).");
        }

        if (request.InPlace || request.Confirm is not null)
        {
            throw Refuse("--confirm and --in-place are for catalogued databases; a scratch copy needs neither.");
        }

        if (plan.Tables.Count > 0 && !plan.DataOnly)
        {
            throw Refuse(TableIntoExisting(plan.Database, target));
        }

        if (plan.DataOnly)
        {
            RequireOneTransaction(request, target);
            undo.Text = $"the scratch database '{target}' was left as it was: its one transaction was rolled back";
            var loaded = await RunAsync(plan with { Jobs = 1, Connection = scratch.Admin, Target = target, OneTransaction = true }, progress, clock, cancellationToken).ConfigureAwait(false);
            ThrowIfFailed(loaded, plan, target, $" '{target}' was not changed: the restore ran in one transaction, which was rolled back.");
            return Result(plan, loaded, target, true, existing.ExpiresAt, null, clock);
        }

        var (incoming, outcome, _) = await RestoreToNewScratchAsync(scratch, plan, keep: false, progress, clock, undo, cancellationToken, complete: false).ConfigureAwait(false);
        undo.Text = $"the scratch database '{target}' was left as it was and the new copy {incoming} was dropped";
        try
        {
            progress?.Report(new WorkProgress(WorkPhase.Swapping, outcome.Bytes, outcome.Bytes, clock.Elapsed));
            await scratch.ReplaceAsync(existing, incoming, plan.BackupId, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await DropQuietlyAsync(scratch, incoming).ConfigureAwait(false);
            throw;
        }

        return Result(plan, outcome, target, true, existing.ExpiresAt, null, clock);
    }

    /// <summary>Creates a scratch database, restores into it (dropping it on failure unless kept) and marks it complete; returns its name.</summary>
    private async Task<(string Name, RunOutcome Outcome, DateTimeOffset ExpiresAt)> RestoreToNewScratchAsync(ScratchServer scratch, RunPlan plan, bool keep, IProgress<WorkProgress>? progress, Stopwatch clock, UndoNote undo, CancellationToken cancellationToken, bool complete = true)
    {
        var now = time.GetUtcNow();

        // Created while the archive opens; nothing is restored into it before it exists.
        var creation = scratch.StartCreate(plan.Database, plan.BackupId, now, Ttl, cancellationToken);
        var name = creation.Name;
        var before = undo.Text;
        undo.Text = $"the half-made scratch database {name} was dropped and the temporary files removed; nothing else was changed";
        logger.LogInformation("Restoring {Database} backup {BackupId} into scratch database {Scratch}", plan.Database, plan.BackupId, name);
        var outcome = await RunOrDropAsync(scratch, creation, plan with { Connection = scratch.Admin, Target = name, Fresh = true, Ready = creation.Created }, keep, progress, clock, cancellationToken).ConfigureAwait(false);
        if (complete)
        {
            try
            {
                await scratch.MarkCompleteAsync(new ScratchDatabase(name, plan.Database, plan.BackupId, now, now + Ttl, 0), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await DropQuietlyAsync(scratch, name).ConfigureAwait(false);
                throw;
            }
        }

        undo.Text = before;
        return (name, outcome, now + Ttl);
    }

    /// <summary>Restores into an existing database run in one transaction, which pg_restore cannot split over jobs nor continue past an error in.</summary>
    private static void RequireOneTransaction(RestoreRequest request, string target)
    {
        if (request.Jobs > 1)
        {
            throw Refuse($"This restore changes '{target}' in place, in one transaction so that a failure changes nothing, and pg_restore cannot run one transaction in parallel: leave out --jobs.");
        }
    }

    private static string Describe(Verify.VerificationCheck check) =>
        $"{check.Kind} {check.Name}" + (check.Expected is not null ? $" (expected {check.Expected}, found {check.Actual})" : string.Empty) + (check.Detail is not null ? $": {check.Detail}" : string.Empty);

    /// <summary>What a cancelled restore has undone by the time it stops, in words.</summary>
    private sealed class UndoNote
    {
        public string Text { get; set; } = "nothing had been changed yet";
    }

    private async Task DropBesideQuietlyAsync(TargetServer server, string name)
    {
        try
        {
            await server.DropAsync(name, CancellationToken.None).ConfigureAwait(false);
        }
        catch (SbkException ex)
        {
            logger.LogWarning("Could not drop {Incoming} beside {Target}: {Message}. 'sbk previous sweep' drops it.", name, server.Catalog, ex.Message);
        }
    }

    private static string TableIntoExisting(string database, string target) =>
        $"Restoring whole tables into the existing database '{target}' would drop and recreate them, losing their indexes and breaking foreign keys that point at them. Either restore the tables into a new scratch database (sbk restore {database} --table …) and copy rows from there, or empty them and load their data with --data-only.";

    private RestoreResult Result(RunPlan plan, RunOutcome outcome, string target, bool scratch, DateTimeOffset? expires, string? emergency, Stopwatch clock) =>
        new(plan.Database, plan.BackupId, target, scratch, expires, emergency, plan.Tables.Select(t => $"{t.Schema}.{t.Name}").ToList(), plan.DataOnly, plan.Jobs,
            outcome.Bytes, outcome.Messages.ToleratedCount, outcome.Messages.FirstTolerated, Timings(outcome, TimeSpan.Zero, clock.Elapsed));

    private static PhaseTimings Timings(RunOutcome? outcome, TimeSpan checks, TimeSpan total) =>
        new(Seconds(outcome?.Download ?? TimeSpan.Zero), Seconds(outcome?.Decrypt ?? TimeSpan.Zero), Seconds(outcome?.Restore ?? TimeSpan.Zero), Seconds(checks), Seconds(total));

    /// <summary>Runs into a new scratch database; drops it on an integrity failure, and on any other failure unless kept.</summary>
    private async Task<RunOutcome> RunOrDropAsync(ScratchServer scratch, ScratchServer.Creation creation, RunPlan plan, bool keep, IProgress<WorkProgress>? progress, Stopwatch clock, CancellationToken cancellationToken)
    {
        var name = creation.Name;
        var drop = true;
        try
        {
            var outcome = await RunAsync(plan, progress, clock, cancellationToken).ConfigureAwait(false);
            drop = !outcome.Succeeded && !keep;
            ThrowIfFailed(outcome, plan, name, keep ? $" The scratch database '{name}' was kept for inspection (--keep)." : null);
            return outcome;
        }
        catch (Exception ex) when (ex is not IntegrityException and not OperationCanceledException && keep)
        {
            drop = false;
            throw;
        }
        finally
        {
            if (drop)
            {
                await DropCreatedAsync(scratch, creation, quiet: false).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Drops a scratch database whose restore failed, once its creation has ended (a drop sent while
    /// CREATE DATABASE still runs would find nothing, and the database would then appear): as any
    /// other drop if it was made (or <paramref name="quiet"/>ly), quietly if a cancellation left
    /// unknown whether it was, not at all if its creation failed.
    /// </summary>
    private async Task DropCreatedAsync(ScratchServer scratch, ScratchServer.Creation creation, bool quiet)
    {
        switch (await creation.SettledAsync().ConfigureAwait(false))
        {
            case true when !quiet:
                await scratch.DropAsync(creation.Name, CancellationToken.None).ConfigureAwait(false);
                break;
            case true or null:
                await DropQuietlyAsync(scratch, creation.Name).ConfigureAwait(false);
                break;
        }
    }

    private static void ThrowIfFailed(RunOutcome outcome, RunPlan plan, string target, string? after = null)
    {
        if (outcome.Succeeded)
        {
            return;
        }

        var m = outcome.Messages;
        var what = m.ErrorCount > 0
            ? $"pg_restore reported {m.ErrorCount} error(s){(m.ToleratedCount > 0 ? $" (and {m.ToleratedCount} tolerated)" : string.Empty)}; the first: {string.Join(" | ", m.FirstErrors)}"
            : $"pg_restore exited with code {outcome.ExitCode.ToString(CultureInfo.InvariantCulture)}: {(m.Other.Length > 0 ? m.Other.Trim() : "(no message)")}";
        throw new SbkException(SbkErrorKind.Failed,
            $"The restore of backup {plan.BackupId} ({plan.Database}) into '{target}' failed: {what}.{after} If an error is known and harmless (a provider-only extension, say), tolerate it with --tolerate TEXT or the catalog's TolerateRestoreErrors{(plan.OneTransaction ? "; in one transaction, though, any error undoes everything, so restore by swap (see --in-place) to tolerate one" : string.Empty)}.");
    }
}
