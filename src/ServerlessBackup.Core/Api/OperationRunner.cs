using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessBackup.Backups;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Errors;
using ServerlessBackup.Restore;
using ServerlessBackup.Schedules;
using ServerlessBackup.Storage;
using ServerlessBackup.Verify;

namespace ServerlessBackup.Api;

/// <summary>
/// Runs operations in this process with bounded concurrency, keeping each one's state in the store
/// (so a restarted server still answers for finished operations and marks interrupted ones
/// failed), one backup or restore per database at a time, and cancellation on shutdown.
/// </summary>
public sealed class OperationRunner : IAsyncDisposable
{
    /// <summary>The store prefix of operation records.</summary>
    public const string Prefix = "_operations/";

    private static readonly JsonSerializerOptions SlackJson = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };
    private const string ErrorRole = "operation-error";
    private readonly IObjectStore store;
    private readonly BackupEngine backups;
    private readonly Scheduler scheduler;
    private readonly RestoreEngine restores;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly HttpClient http;
    private readonly SemaphoreSlim slots;
    private readonly CancellationTokenSource stopping = new();
    private readonly ConcurrentDictionary<string, string> busyDatabases = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim gate = new(1, 1);

    /// <summary>Creates the runner.</summary>
    public OperationRunner(BackupEngine backups, Scheduler scheduler, RestoreEngine restores, int maxConcurrent, TimeProvider? time = null, HttpClient? http = null, ILogger<OperationRunner>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(backups);
        var store = backups.Store;
        this.backups = backups;
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(restores);
        this.store = store;
        this.scheduler = scheduler;
        this.restores = restores;
        this.time = time ?? TimeProvider.System;
        this.http = http ?? new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
        slots = new SemaphoreSlim(maxConcurrent);
    }

    /// <summary>Raised when an operation ends (listings and status may have changed).</summary>
    public event Action<OperationRecord>? Finished;

    /// <summary>A new operation id.</summary>
    public string NewId() => "op-" + BackupId.New(time.GetUtcNow());

    /// <summary>Marks operations a previous process left queued or running as failed (they were interrupted).</summary>
    public async Task RecoverAsync(CancellationToken cancellationToken = default)
    {
        await foreach (var item in store.ListAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            if (!item.Key.EndsWith(".json", StringComparison.Ordinal) || item.Key.Count(c => c == '/') != 1)
            {
                continue;
            }

            var record = await store.ReadJsonAsync<OperationRecord>(item.Key, cancellationToken).ConfigureAwait(false);
            if (record is { Status: "queued" or "running" })
            {
                await SaveAsync(await FailAsync(record, "Interrupted", "The server stopped while this operation was queued or running; nothing was committed. Start it again.", cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>An operation by id, or null; a failure's message is opened from its seal.</summary>
    public async Task<OperationRecord?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        var record = await store.ReadJsonAsync<OperationRecord>(Key(id), cancellationToken).ConfigureAwait(false);
        if (record?.SealedError is { } sealedError)
        {
            try
            {
                var plain = await backups.OpenSealedAsync(record.Id, ErrorRole, sealedError.Key, sealedError.Seal, System.Text.Encoding.UTF8.GetBytes(record.Id), $"The error of operation {record.Id}", cancellationToken).ConfigureAwait(false);
                record = record with { Error = System.Text.Encoding.UTF8.GetString(plain) };
            }
            catch (SbkException ex)
            {
                record = record with { Error = $"The operation failed ({record.ErrorKind}); its message could not be opened: {ex.Message}" };
            }
        }

        return record;
    }

    /// <summary>A failed record: the kind in clear, the message sealed (it may name tables or roles).</summary>
    private async Task<OperationRecord> FailAsync(OperationRecord record, string kind, string message, CancellationToken cancellationToken)
    {
        ManifestKeyAndSeal? sealedError = null;
        try
        {
            var (key, seal) = await backups.SealAsync(record.Id, ErrorRole, System.Text.Encoding.UTF8.GetBytes(message), System.Text.Encoding.UTF8.GetBytes(record.Id), cancellationToken).ConfigureAwait(false);
            sealedError = new ManifestKeyAndSeal(key, seal);
        }
        catch (SbkException ex)
        {
            // No master key to seal with: keep only the kind; the message stays in this process (Slack, logs).
            logger.LogWarning("Could not seal the error of operation {Id}: {Message}", record.Id, ex.Message);
        }

        return record with { Status = "failed", ErrorKind = kind, Error = message, SealedError = sealedError, UpdatedAt = time.GetUtcNow() };
    }

    /// <summary>Saves a new operation and, unless it awaits approval, starts it. Returns the id of a running backup or restore of the same database instead, if there is one.</summary>
    public async Task<(OperationRecord Record, bool Conflict)> SubmitAsync(OperationRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (record.Status != "awaiting-approval" && record.Kind is "backup" or "restore" && busyDatabases.TryGetValue(record.Database, out var busy)
                && await GetAsync(busy, cancellationToken).ConfigureAwait(false) is { IsFinished: false } existing)
            {
                return (existing, true);
            }

            await SaveAsync(record, cancellationToken).ConfigureAwait(false);
            if (record.Status == "queued")
            {
                Start(record);
            }

            return (record, false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Approves an operation awaiting approval and starts it.</summary>
    public async Task<(OperationRecord Record, bool Conflict)> ApproveAsync(OperationRecord record, string approvedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return await SubmitAsync(record with { Status = "queued", ApprovedBy = approvedBy, UpdatedAt = time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
    }

    private void Start(OperationRecord record)
    {
        if (record.Kind is "backup" or "restore")
        {
            busyDatabases[record.Database] = record.Id;
        }

        running[record.Id] = Task.Run(() => RunAsync(record));
    }

    private async Task RunAsync(OperationRecord record)
    {
        var token = stopping.Token;
        using var saveLock = new SemaphoreSlim(1, 1);
        var finished = false;

        // Progress saves are fire-and-forget; the final save must never be overwritten by a late one.
        async Task PersistAsync(OperationRecord r, bool final)
        {
            await saveLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                if (finished)
                {
                    return;
                }

                finished = final;
                await SaveAsync(r, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                saveLock.Release();
            }
        }

        try
        {
            await slots.WaitAsync(token).ConfigureAwait(false);
            try
            {
                record = record with { Status = "running", Phase = "preflight", UpdatedAt = time.GetUtcNow() };
                await PersistAsync(record, final: false).ConfigureAwait(false);
                var lastSave = DateTimeOffset.MinValue;
                var progress = new SyncProgress(p =>
                {
                    // Progress reaches the store at most once a second.
                    var now = time.GetUtcNow();
                    if (now - lastSave >= TimeSpan.FromSeconds(1))
                    {
                        lastSave = now;
                        record = record with { Phase = p.Phase.ToString().ToLowerInvariant(), Bytes = p.SourceBytes, UpdatedAt = now };
                        _ = PersistAsync(record, final: false);
                    }
                });
                object result = record.Kind switch
                {
                    "backup" => Summarize(await scheduler.BackupAsync(record.Database, record.Label, progress, token).ConfigureAwait(false)),
                    "restore" => Summarize(await restores.RestoreAsync(new RestoreRequest
                    {
                        Database = record.Database,
                        Backup = record.Backup ?? "latest",
                        Target = record.Target is null or "scratch" ? null : record.Target,
                        Confirm = record.Target is null or "scratch" ? null : record.Target,
                    }, progress, token).ConfigureAwait(false)),
                    _ => Summarize(await restores.VerifyAsync(new VerificationRequest
                    {
                        Database = record.Database,
                        Backup = record.Backup ?? "latest",
                        Level = Enum.Parse<VerificationLevel>(record.Level ?? "Assertions", ignoreCase: true),
                    }, progress, token).ConfigureAwait(false)),
                };
                record = record with { Status = "succeeded", Phase = "done", Result = JsonSerializer.SerializeToElement(result, Json), UpdatedAt = time.GetUtcNow() };
            }
            finally
            {
                slots.Release();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            record = await FailAsync(record, "Cancelled", "The server stopped before this operation finished; nothing was committed. Start it again.", CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SbkException or IOException or HttpRequestException or Azure.RequestFailedException)
        {
            record = await FailAsync(record, ex is SbkException sbk ? sbk.Kind.ToString() : "Failed", SecretRedactor.Redact(ex.Message), CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The runner is a boundary: a bug must become a failed operation, never a dead background task.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            logger.LogError("Operation {Id} failed unexpectedly: {Type}: {Message}", record.Id, ex.GetType().Name, SecretRedactor.Redact(ex.Message));
            record = await FailAsync(record, "Bug", $"An unexpected {ex.GetType().Name} stopped the operation; this is a bug in sbk. Report it with the operation id.", CancellationToken.None).ConfigureAwait(false);
        }

        // Listings are refreshed before anyone can see the operation ended.
        Finished?.Invoke(record);
        await PersistAsync(record, final: true).ConfigureAwait(false);
        busyDatabases.TryRemove(new KeyValuePair<string, string>(record.Database, record.Id));
        running.TryRemove(record.Id, out _);
        await PostToSlackAsync(record).ConfigureAwait(false);
    }

    // Operation records are stored in clear: they keep only what listing may show (no table names,
    // counts or error texts, which are data-derived). The full verification report stays sealed
    // beside its backup; the API reads it from there for an authenticated caller.
    private static object Summarize(RestoreResult r) => new
    {
        r.Database, r.BackupId, r.Target, r.TargetIsScratch, r.ExpiresAt, r.EmergencyBackupId, tables = r.Tables.Count, r.DataOnly, r.Jobs, r.Bytes, r.ToleratedErrors, r.Timings,
    };

    private static object Summarize(VerificationReport r) => new
    {
        r.Database, r.BackupId, r.Level, r.Passed, r.IntegrityFailure, r.RowsVerified, r.ArchiveBytes, r.Timings,
        checks = r.Checks.Count, failedChecks = r.Checks.Count(c => !c.Passed), r.Kept, r.ScratchDatabase,
    };

    private static object Summarize(Manifest m) => new { m.Database, m.BackupId, m.Label, m.StartedAt, m.CompletedAt, m.SnapshotTime, storedBytes = m.Archive.Length, dumpBytes = m.Archive.DumpLength, m.Warnings };

    private async Task PostToSlackAsync(OperationRecord record)
    {
        if (record.ResponseUrl is null)
        {
            return;
        }

        var text = record.Status == "succeeded"
            ? record.Kind switch
            {
                "backup" => $"Backup of `{record.Database}` done: {record.Result?.GetProperty("backupId").GetString()}.",
                "restore" => $"Restore of `{record.Database}` done, into scratch database `{record.Result?.GetProperty("target").GetString()}`.",
                _ => $"Verification of `{record.Database}` {(record.Result?.GetProperty("passed").GetBoolean() == true ? "PASSED" : "FAILED")} (backup {record.Result?.GetProperty("backupId").GetString()}).",
            }
            : $"{char.ToUpperInvariant(record.Kind[0])}{record.Kind[1..]} of `{record.Database}` failed: {record.Error}";
        try
        {
            using var response = await http.PostAsJsonAsync(new Uri(record.ResponseUrl), new { response_type = "in_channel", text = $"{text} (operation {record.Id})" }, SlackJson).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                logger.LogWarning("Slack's response URL answered {Status} for operation {Id}.", (int)response.StatusCode, record.Id);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            logger.LogWarning("Could not post the outcome of operation {Id} to Slack: {Message}", record.Id, ex.Message);
        }
    }

    private Task SaveAsync(OperationRecord record, CancellationToken cancellationToken) => store.WriteJsonAsync(Key(record.Id), record, cancellationToken);

    private static string Key(string id) => $"{Prefix}{id}.json";

    /// <summary>Waits for every started operation to end (tests, shutdown).</summary>
    public Task DrainAsync() => Task.WhenAll(running.Values.ToList());

    /// <summary>Cancels running operations and waits for them to record their end.</summary>
    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        await DrainAsync().ConfigureAwait(false);
        stopping.Dispose();
        slots.Dispose();
        gate.Dispose();
    }

    private sealed class SyncProgress(Action<BackupProgress> handler) : IProgress<BackupProgress>
    {
        public void Report(BackupProgress value) => handler(value);
    }
}
