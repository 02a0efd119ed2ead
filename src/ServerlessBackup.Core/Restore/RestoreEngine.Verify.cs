using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Backups;
using ServerlessBackup.Errors;
using ServerlessBackup.Verify;

namespace ServerlessBackup.Restore;

public sealed partial class RestoreEngine
{
    /// <summary>
    /// Verifies a backup up to <see cref="VerificationRequest.Level"/>: archive (authenticates and
    /// pg_restore --list reads it; no database), restore (into a new scratch database), census
    /// (row counts and sequences equal the manifest's census), assertions (the catalog's SQL
    /// checks). The scratch database is dropped afterwards unless kept (an integrity failure drops
    /// it regardless). The report is stored next to the backup, sealed, and returned; a failed
    /// check is a report with <see cref="VerificationReport.Passed"/> false, not an exception.
    /// </summary>
    /// <exception cref="SbkException">The verification could not run: unknown database or backup, an altered manifest, no scratch server, no pg_restore.</exception>
    public Task<VerificationReport> VerifyAsync(VerificationRequest request, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default) =>
        CancelledException.SayingAsync(VerifyCoreAsync(request, progress, cancellationToken), "The verification stopped: its scratch database was dropped, the temporary files removed, and nothing was recorded.", cancellationToken);

    private async Task<VerificationReport> VerifyCoreAsync(VerificationRequest request, IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var database = request.Database;
        var entry = backups.ResolveDatabase(database);
        if (request.Jobs is < 1 or > 64)
        {
            throw Refuse($"--jobs must be between 1 and 64, not {request.Jobs}.");
        }

        if (!Enum.IsDefined(request.Level))
        {
            throw Refuse($"There is no verification level {(int)request.Level}; use archive, restore, census or assertions.");
        }

        var clock = Stopwatch.StartNew();
        var startedAt = time.GetUtcNow();
        progress?.Report(new WorkProgress(WorkPhase.Preflight, 0, 0, clock.Elapsed));

        // Asked while the manifest is read; their errors still come after the manifest's.
        var programs = FindPgRestoreProgramsAsync(cancellationToken);
        var opening = request.Level >= VerificationLevel.Restore ? Early(OpenScratchAsync(database, entry, cancellationToken)) : null;
        var details = await backups.ShowAsync(database, request.Backup, cancellationToken).ConfigureAwait(false);
        var backupId = details.Manifest.BackupId;
        var tool = await SelectPgRestoreAsync(details.Manifest, programs, cancellationToken).ConfigureAwait(false);
        var tolerated = entry.TolerateRestoreErrors.Concat(request.Tolerate).Where(t => t.Length > 0).ToList();
        ScratchServer? scratch = null;
        if (opening is not null)
        {
            // Before anything is read: a missing or misplaced scratch server is a configuration error, not a failed backup.
            scratch = await opening.ConfigureAwait(false);
        }

        var checks = new List<VerificationCheck>();
        string? scratchName = null;
        var kept = false;
        string? error = null;
        var integrity = false;
        long rows = 0;
        long bytes = 0;
        TimeSpan download = TimeSpan.Zero, decrypt = TimeSpan.Zero, restore = TimeSpan.Zero, checksTime = TimeSpan.Zero;
        try
        {
            if (scratch is null)
            {
                progress?.Report(new WorkProgress(WorkPhase.Decrypting, 0, 0, clock.Elapsed));
                var (_, entries, archive) = await ReadTocAsync(database, backupId, tool, drain: true, cancellationToken).ConfigureAwait(false);
                (download, decrypt, bytes) = (archive.Download, archive.Decrypt, archive.PlainBytes);
                checks.Add(new VerificationCheck("archive", "every chunk authenticates and the archive matches its manifest", true, Actual: $"{archive.StoredBytes.ToString(CultureInfo.InvariantCulture)} bytes"));
                checks.Add(new VerificationCheck("archive", "pg_restore --list reads the archive", true, Actual: $"{entries.ToString(CultureInfo.InvariantCulture)} entries"));
            }
            else
            {
                // Created while the archive opens.
                var creation = scratch.StartCreate(database, backupId, startedAt, Ttl, cancellationToken);
                scratchName = creation.Name;
                logger.LogInformation("Verifying {Database} backup {BackupId} in scratch database {Scratch}", database, backupId, scratchName);
                try
                {
                    var plan = new RunPlan(database, backupId, tool, [], false, request.Jobs ?? entry.RestoreJobs, tolerated) { Connection = scratch.Admin, Target = scratchName, Fresh = true, Ready = creation.Created };
                    var outcome = await RunAsync(plan, progress, clock, cancellationToken).ConfigureAwait(false);
                    (download, decrypt, restore, bytes) = (outcome.Download, outcome.Decrypt, outcome.Restore, outcome.Bytes);
                    checks.Add(new VerificationCheck("archive", "every chunk authenticates and the archive matches its manifest", true));
                    checks.Add(RestoreCheck(outcome));
                    if (outcome.Succeeded && request.Level >= VerificationLevel.Census)
                    {
                        progress?.Report(new WorkProgress(WorkPhase.Checking, 0, bytes, clock.Elapsed));
                        var copyChecks = await CheckCopyAsync(scratch, database, entry, details, scratchName, request.Level, cancellationToken).ConfigureAwait(false);
                        checks.AddRange(copyChecks.Checks);
                        (rows, checksTime) = (copyChecks.RowsVerified, copyChecks.Elapsed);
                    }

                    kept = request.Keep;
                    if (kept)
                    {
                        await scratch.MarkCompleteAsync(new ScratchDatabase(scratchName, database, backupId, startedAt, startedAt + Ttl, 0), cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    if (!kept)
                    {
                        await DropCreatedAsync(scratch, creation, quiet: true).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (IntegrityException ex)
        {
            integrity = true;
            error = ex.Message;
            checks.Add(new VerificationCheck("archive", "every chunk authenticates and the archive matches its manifest", false, Detail: ex.Message));
        }
        catch (SbkException ex) when (ex.Kind == SbkErrorKind.Failed && !cancellationToken.IsCancellationRequested)
        {
            error = ex.Message;
        }

        var report = new VerificationReport
        {
            Database = database,
            BackupId = backupId,
            SnapshotTime = details.Manifest.SnapshotTime,
            Level = request.Level,
            Passed = error is null && checks.Count > 0 && checks.All(c => c.Passed),
            StartedAt = startedAt,
            ScratchDatabase = scratchName,
            Kept = kept,
            RowsVerified = rows,
            ArchiveBytes = bytes,
            Timings = new PhaseTimings(Seconds(download), Seconds(decrypt), Seconds(restore), Seconds(checksTime), Seconds(clock.Elapsed)),
            Checks = checks,
            Error = error,
            IntegrityFailure = integrity,
        };
        await backups.RecordVerificationAsync(report, cancellationToken).ConfigureAwait(false);
        progress?.Report(new WorkProgress(WorkPhase.Done, bytes, bytes, clock.Elapsed));
        return report;
    }

    /// <summary>
    /// The census (and, at the assertions level, the catalog's assertions) checked against a
    /// scratch database that already holds a restore of the backup (drills restore and check in
    /// separate steps).
    /// </summary>
    public async Task<CopyCheckResult> CheckScratchAsync(string database, string backupId, string scratchName, VerificationLevel level, CancellationToken cancellationToken = default)
    {
        var entry = backups.ResolveDatabase(database);
        var details = await backups.ShowAsync(database, backupId, cancellationToken).ConfigureAwait(false);
        var scratch = await OpenScratchAsync(database, entry, cancellationToken).ConfigureAwait(false);
        var found = await scratch.FindAsync(scratchName, cancellationToken).ConfigureAwait(false);
        if (found is null || found.SourceDatabase != database || found.BackupId != details.Manifest.BackupId)
        {
            throw new SbkException(SbkErrorKind.NotFound, $"There is no scratch database '{BackupEngine.Sanitize(scratchName)}' holding backup {details.Manifest.BackupId} of '{database}' on {scratch.Describe()}.");
        }

        return await CheckCopyAsync(scratch, database, entry, details, scratchName, level, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<CopyCheckResult> CheckCopyAsync(ScratchServer scratch, string database, Catalog.DatabaseOptions entry, BackupDetails details, string scratchName, VerificationLevel level, CancellationToken cancellationToken)
    {
        await using var copy = await scratch.ConnectAsync(cancellationToken, scratchName).ConfigureAwait(false);
        return await CheckCopyAsync(copy, database, entry, details, level, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The census, and at the assertions level the catalog's assertions, checked on an open connection to a restored copy.</summary>
    private static async Task<CopyCheckResult> CheckCopyAsync(Npgsql.NpgsqlConnection copy, string database, Catalog.DatabaseOptions entry, BackupDetails details, VerificationLevel level, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var checks = new List<VerificationCheck>();
        var (census, rows) = await CopyChecks.CensusAsync(copy, details.Private.Census, cancellationToken).ConfigureAwait(false);
        checks.AddRange(census);
        if (level >= VerificationLevel.Assertions)
        {
            checks.AddRange(entry.Assertions.Count == 0
                ? [new VerificationCheck("assertion", "assertions", true, Detail: $"No assertions are configured for '{database}' (Databases:{database}:Assertions); only the census was checked.")]
                : await CopyChecks.AssertionsAsync(copy, entry.Assertions, cancellationToken).ConfigureAwait(false));
        }

        return new CopyCheckResult(checks, rows, clock.Elapsed);
    }

    private static VerificationCheck RestoreCheck(RunOutcome outcome)
    {
        var m = outcome.Messages;
        if (outcome.Succeeded)
        {
            return new VerificationCheck("restore", "pg_restore into a new scratch database", true,
                Detail: m.ToleratedCount > 0 ? $"{m.ToleratedCount} tolerated error(s): {string.Join(" | ", m.FirstTolerated)}" : null);
        }

        var detail = m.ErrorCount > 0
            ? $"pg_restore reported {m.ErrorCount} error(s); the first: {string.Join(" | ", m.FirstErrors)}"
            : $"pg_restore exited with code {outcome.ExitCode.ToString(CultureInfo.InvariantCulture)}: {m.Other.Trim()}";
        return new VerificationCheck("restore", "pg_restore into a new scratch database", false, "0 errors", m.ErrorCount.ToString(CultureInfo.InvariantCulture), detail);
    }

    private async Task DropQuietlyAsync(ScratchServer scratch, string name)
    {
        try
        {
            await scratch.DropAsync(name, CancellationToken.None).ConfigureAwait(false);
        }
        catch (SbkException ex)
        {
            // The janitor will drop it when it expires; the verification's outcome is what matters here.
            logger.LogWarning("Could not drop scratch database {Scratch}: {Message}. 'sbk scratch sweep' will drop it after it expires.", name, ex.Message);
        }
    }
}
