using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessBackup.Backups;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Drills;
using ServerlessBackup.Errors;
using ServerlessBackup.Restore;
using ServerlessBackup.Schedules;
using ServerlessBackup.Verify;

namespace ServerlessBackup.Operations;

/// <summary>
/// Runs one operation with the engine, whichever host started it (the in-process runner of
/// <c>sbk serve</c>, a Durable activity in the Functions app), and reports how it ended. Engine
/// failures become an <see cref="OperationOutcome"/> with the error's kind; only cancellation
/// escapes, so the caller can tell a stopped host from a failed operation.
/// </summary>
public sealed class OperationExecutor
{
    internal static readonly JsonSerializerOptions Json = SbkJson.Web(stringEnums: true);
    private readonly BackupEngine backups;
    private readonly RestoreEngine restores;
    private readonly DrillEngine drills;
    private readonly ILogger logger;

    /// <summary>Creates the executor over the engine's services.</summary>
    public OperationExecutor(BackupEngine backups, RestoreEngine restores, DrillEngine drills, ILogger<OperationExecutor>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(backups);
        ArgumentNullException.ThrowIfNull(restores);
        ArgumentNullException.ThrowIfNull(drills);
        this.backups = backups;
        this.restores = restores;
        this.drills = drills;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Runs <paramref name="record"/>; progress goes to <paramref name="progress"/>.</summary>
    /// <exception cref="OperationCanceledException">Only when <paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<OperationOutcome> RunAsync(OperationRecord record, IProgress<WorkProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            JsonElement result = record.Kind switch
            {
                OperationKinds.Backup => Element(Summarize(await backups.BackupAsync(record.Database, record.Label, progress, cancellationToken).ConfigureAwait(false))),
                OperationKinds.Restore => Element(Summarize(await restores.RestoreAsync(new RestoreRequest
                {
                    Database = record.Database,
                    Backup = record.Backup ?? "latest",
                    Target = record.Target is null or "scratch" ? null : record.Target,
                    Confirm = record.Target is null or "scratch" ? null : record.Target,
                }, progress, cancellationToken).ConfigureAwait(false))),
                OperationKinds.Verification => Element(Summarize(await restores.VerifyAsync(new VerificationRequest
                {
                    Database = record.Database,
                    Backup = record.Backup ?? "latest",
                    Level = Enum.Parse<VerificationLevel>(record.Level ?? "Assertions", ignoreCase: true),
                }, progress, cancellationToken).ConfigureAwait(false))),
                OperationKinds.Drill => Element(Summarize((await drills.RunAsync(record.Drill ?? throw new SbkException(SbkErrorKind.Configuration, $"Operation {record.Id} is a drill without its input."), null, cancellationToken).ConfigureAwait(false)).Report)),
                _ => throw new SbkException(SbkErrorKind.Configuration, $"Operation {record.Id} has an unknown kind '{BackupEngine.Sanitize(record.Kind)}'."),
            };
            return OperationOutcome.Success(result);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (SbkException ex)
        {
            return OperationOutcome.Failure(ex.Kind.ToString(), SecretRedactor.Redact(ex.Message));
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or Azure.RequestFailedException or UnauthorizedAccessException)
        {
            return OperationOutcome.Failure("Failed", SecretRedactor.Redact(ex.Message));
        }
#pragma warning disable CA1031 // The executor is a boundary: a bug must become a failed operation, never a lost one.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            logger.LogError("Operation {Id} failed unexpectedly: {Type}: {Message}", record.Id, ex.GetType().Name, SecretRedactor.Redact(ex.Message));
            return OperationOutcome.Failure("Bug", $"An unexpected {ex.GetType().Name} stopped the operation; this is a bug in sbk. Report it with the operation id.");
        }
    }

    // Results are stored in clear (operation records, orchestration outputs): they keep only what
    // listing may show (no table names, counts or error texts, which are data-derived). The full
    // verification and drill reports stay sealed in the store; the API opens them for a caller.
    internal static JsonElement Element<T>(T value) => JsonSerializer.SerializeToElement(value, Json.Info<T>());

    private static RestoreSummary Summarize(RestoreResult r) => new(
        r.Database, r.BackupId, r.Target, r.TargetIsScratch, r.ExpiresAt, r.EmergencyBackupId, r.Tables.Count, r.DataOnly, r.Jobs, r.Bytes, r.ToleratedErrors, r.Timings,
        r.Previous?.Name, r.Previous?.ExpiresAt);

    private static VerificationSummary Summarize(VerificationReport r) => new(
        r.Database, r.BackupId, r.Level, r.Passed, r.IntegrityFailure, r.RowsVerified, r.ArchiveBytes, r.Timings,
        r.Checks.Count, r.Checks.Count(c => !c.Passed), r.Kept, r.ScratchDatabase);

    private static BackupSummaryView Summarize(Manifest m) => new(m.Database, m.BackupId, m.Label, m.StartedAt, m.CompletedAt, m.SnapshotTime, m.Archive.Length, m.Archive.DumpLength, m.Warnings);

    internal static DrillSummary Summarize(DrillReport r) => new(r.DrillId, r.StartedAt, r.FinishedAt, r.Passed, r.Databases.Count, r.AllPassed);

    /// <summary>An operation's result as stored in clear: serialized as <see cref="Json"/> writes it (member order is the wire order).</summary>
    internal sealed record RestoreSummary(string Database, string BackupId, string Target, bool TargetIsScratch, DateTimeOffset? ExpiresAt, string? EmergencyBackupId, int Tables, bool DataOnly, int Jobs, long Bytes, int ToleratedErrors, PhaseTimings Timings, string? Previous, DateTimeOffset? PreviousExpiresAt);

    internal sealed record VerificationSummary(string Database, string BackupId, VerificationLevel Level, bool Passed, bool IntegrityFailure, long RowsVerified, long ArchiveBytes, PhaseTimings Timings, int Checks, int FailedChecks, bool Kept, string? ScratchDatabase);

    internal sealed record BackupSummaryView(string Database, string BackupId, string? Label, DateTimeOffset StartedAt, DateTimeOffset CompletedAt, DateTimeOffset SnapshotTime, long StoredBytes, long DumpBytes, IReadOnlyList<string> Warnings);

    internal sealed record DrillSummary(string DrillId, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, int Passed, int Databases, bool AllPassed);
}
