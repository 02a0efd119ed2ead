using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Diagnostics;

namespace ServerlessBackup.Operations;

/// <summary>
/// Runs operations in this process (<c>sbk serve</c>) with bounded concurrency, keeping each one's
/// record in the store so that any instance sharing the store answers for it. A running operation
/// refreshes its record every <see cref="HeartbeatInterval"/>; one whose record has not changed for
/// <see cref="StaleAfter"/> was interrupted (its process died) and is reported failed, by whichever
/// instance looks first. A live operation of another instance is never touched. On shutdown
/// running operations are cancelled and recorded as such.
/// </summary>
public sealed class InProcessOperations : IOperationService, IAsyncDisposable
{
    /// <summary>How often a running operation's record is refreshed.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(20);

    /// <summary>How old a queued or running record must be to count as interrupted.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(2);

    private readonly OperationStore records;
    private readonly DatabaseSlots slots;
    private readonly OperationExecutor executor;
    private readonly OperationNotices notices;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly SemaphoreSlim lanes;
    private readonly CancellationTokenSource stopping = new();
    private readonly ConcurrentDictionary<string, Running> running = new(StringComparer.Ordinal);
    private readonly ITimer heartbeat;

    /// <summary>Creates the runner; at most Api:MaxConcurrentOperations run at once.</summary>
    public InProcessOperations(SbkOptions options, OperationStore records, OperationExecutor executor, OperationNotices notices, TimeProvider? time = null, ILogger<InProcessOperations>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(executor);
        ArgumentNullException.ThrowIfNull(notices);
        this.records = records;
        this.executor = executor;
        this.notices = notices;
        this.time = time ?? TimeProvider.System;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
        slots = new DatabaseSlots(records.Objects, records.Signer, this.time);
        lanes = new SemaphoreSlim(options.Api.MaxConcurrentOperations);
        heartbeat = this.time.CreateTimer(_ => _ = BeatAsync(), null, HeartbeatInterval, HeartbeatInterval);
    }

    /// <summary>Raised when an operation this instance ran ends (listings and status may have changed).</summary>
    public event Action<OperationRecord>? Finished;

    /// <inheritdoc />
    public string NewId(string kind) => (kind == OperationKinds.Drill ? "drill-" : "op-") + BackupId.New(time.GetUtcNow());

    /// <summary>Reports operations that a dead process left queued or running as failed; live ones (of other instances) are left alone.</summary>
    public async Task RecoverAsync(CancellationToken cancellationToken = default)
    {
        await foreach (var id in records.ListIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            await GetAsync(id, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<OperationRecord?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        var record = await records.ReadAsync(id, cancellationToken).ConfigureAwait(false);
        if (record is null || running.ContainsKey(id))
        {
            return record;
        }

        var now = time.GetUtcNow();
        if (record.Status is OperationStatus.Queued or OperationStatus.Running && now - record.UpdatedAt > StaleAfter)
        {
            record = await records.EndAsync(record, OperationOutcome.Failure("Interrupted", "The server running this operation stopped before it finished; nothing was committed. Start it again."), cancellationToken).ConfigureAwait(false);
            await records.SaveAsync(record, cancellationToken).ConfigureAwait(false);
        }
        else if (record.Status == OperationStatus.AwaitingApproval && record.ApprovalDeadline < now)
        {
            record = await records.EndAsync(record, Expired(record), cancellationToken).ConfigureAwait(false);
            await records.SaveAsync(record, cancellationToken).ConfigureAwait(false);
        }

        return record;
    }

    /// <inheritdoc />
    public async Task<OperationSubmission> SubmitAsync(OperationRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Status == OperationStatus.Queued && record.SlotDatabase is { } database)
        {
            var holder = await slots.TryAcquireAsync(database, record.Id, IsLiveAsync, cancellationToken).ConfigureAwait(false);
            if (holder is not null)
            {
                return new OperationSubmission(await GetAsync(holder, cancellationToken).ConfigureAwait(false) ?? Placeholder(holder, record), true);
            }
        }

        await records.SaveAsync(record, cancellationToken).ConfigureAwait(false);
        if (record.Status == OperationStatus.Queued)
        {
            Start(record);
        }

        return new OperationSubmission(record, false);
    }

    /// <inheritdoc />
    public async Task<OperationSubmission> ApproveAsync(OperationRecord record, string approvedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.ApprovalDeadline < time.GetUtcNow())
        {
            var expired = await records.EndAsync(record, Expired(record), cancellationToken).ConfigureAwait(false);
            await records.SaveAsync(expired, cancellationToken).ConfigureAwait(false);
            return new OperationSubmission(expired, false);
        }

        return await SubmitAsync(record with { Status = OperationStatus.Queued, ApprovedBy = approvedBy, UpdatedAt = time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<OperationRecord> RejectAsync(OperationRecord record, string rejectedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var rejected = await records.EndAsync(record with { RejectedBy = rejectedBy }, Rejected(record, rejectedBy), cancellationToken).ConfigureAwait(false);
        await records.SaveAsync(rejected, cancellationToken).ConfigureAwait(false);
        return rejected;
    }

    internal static OperationOutcome Expired(OperationRecord record) =>
        OperationOutcome.Failure("Expired", $"No second caller approved this restore into '{record.Target}' before {record.ApprovalDeadline:u}; nothing was changed. Start it again if it is still needed.", OperationStatus.Expired);

    internal static OperationOutcome Rejected(OperationRecord record, string by) =>
        OperationOutcome.Failure("Rejected", $"{by} rejected this restore into '{record.Target}'; nothing was changed.", OperationStatus.Rejected);

    private async Task<bool?> IsLiveAsync(string id, CancellationToken cancellationToken) =>
        await GetAsync(id, cancellationToken).ConfigureAwait(false) is { } record ? !record.IsFinished : null;

    private static OperationRecord Placeholder(string id, OperationRecord wanted) => wanted with { Id = id, Status = OperationStatus.Running, Phase = null, Label = null, ResponseUrl = null };

    private void Start(OperationRecord record)
    {
        var entry = new Running(record);
        running[record.Id] = entry;
        entry.Task = Task.Run(() => RunAsync(entry));
    }

    private async Task RunAsync(Running entry)
    {
        var token = stopping.Token;
        OperationOutcome outcome;
        try
        {
            await lanes.WaitAsync(token).ConfigureAwait(false);
            try
            {
                await entry.SaveAsync(r => r with { Status = OperationStatus.Running, Phase = "preflight", UpdatedAt = time.GetUtcNow() }, records).ConfigureAwait(false);
                var lastSave = DateTimeOffset.MinValue;
                var progress = new Progress(p =>
                {
                    // Progress reaches the store at most once a second.
                    var now = time.GetUtcNow();
                    if (now - lastSave >= TimeSpan.FromSeconds(1))
                    {
                        lastSave = now;
                        _ = entry.SaveAsync(r => r with { Phase = OperationProgress.PhaseOf(p), Bytes = p.SourceBytes, Tables = TableCount.Of(p), UpdatedAt = now }, records);
                    }
                });
                outcome = await executor.RunAsync(entry.Record, progress, token).ConfigureAwait(false);
            }
            finally
            {
                lanes.Release();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            outcome = OperationOutcome.Failure("Cancelled", "The server stopped before this operation finished; nothing was committed. Start it again.");
        }

        var ended = await records.EndAsync(entry.Record, outcome, CancellationToken.None).ConfigureAwait(false);
        // Listings are refreshed before anyone can see the operation ended.
        Finished?.Invoke(ended);
        await entry.SaveAsync(_ => ended, records, final: true).ConfigureAwait(false);
        running.TryRemove(ended.Id, out _);
        if (ended.Status != OperationStatus.Succeeded)
        {
            logger.LogWarning("Operation {Id} ({Kind} of {Database}) {Status}: {Kind2}: {Message}", ended.Id, ended.Kind, ended.Database, ended.Status, ended.ErrorKind, SecretRedactor.Redact(ended.Error ?? string.Empty));
        }

        await notices.PostOutcomeAsync(ended, CancellationToken.None).ConfigureAwait(false);
    }

    private async Task BeatAsync()
    {
        foreach (var entry in running.Values)
        {
            try
            {
                await entry.SaveAsync(r => r with { UpdatedAt = time.GetUtcNow() }, records).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A missed heartbeat is retried at the next beat; an operation must not die of it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                logger.LogWarning("Could not refresh the record of operation {Id}: {Message}", entry.Record.Id, SecretRedactor.Redact(ex.Message));
            }
        }
    }

    /// <summary>Waits for every started operation to end (tests, shutdown).</summary>
    public Task DrainAsync() => Task.WhenAll(running.Values.Select(r => r.Task ?? Task.CompletedTask).ToList());

    /// <summary>Cancels running operations and waits for them to record their end.</summary>
    public async ValueTask DisposeAsync()
    {
        await heartbeat.DisposeAsync().ConfigureAwait(false);
        await stopping.CancelAsync().ConfigureAwait(false);
        await DrainAsync().ConfigureAwait(false);
        stopping.Dispose();
        lanes.Dispose();
    }

    /// <summary>One running operation: its latest record, saved one change at a time; nothing is saved after its final record.</summary>
    private sealed class Running(OperationRecord record)
    {
        private readonly SemaphoreSlim saving = new(1, 1);
        private bool ended;

        public OperationRecord Record { get; private set; } = record;

        public Task? Task { get; set; }

        public async Task SaveAsync(Func<OperationRecord, OperationRecord> change, OperationStore store, bool final = false)
        {
            await saving.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                if (ended)
                {
                    return;
                }

                ended = final;
                Record = change(Record);
                await store.SaveAsync(Record, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                saving.Release();
            }
        }
    }

    private sealed class Progress(Action<WorkProgress> handler) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => handler(value);
    }
}
