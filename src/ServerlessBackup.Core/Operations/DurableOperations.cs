using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using ServerlessBackup.Backups;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Drills;

namespace ServerlessBackup.Operations;

/// <summary>
/// Operations as Durable orchestrations (the Functions app): the instance id is the operation id,
/// the input is the submitted record, the custom status and output say where it is and how it
/// ended. Nothing runs in the HTTP function's process: an instance can be recycled at any moment,
/// and the orchestration goes on wherever the runtime schedules it. Drills run as the drill
/// orchestration (<see cref="DrillOrchestrationName"/>), everything else as <see cref="OperationWorkflow"/>.
/// </summary>
public sealed class DurableOperations : IOperationService
{
    /// <summary>The drill orchestration's name.</summary>
    public const string DrillOrchestrationName = "Drill";

    private readonly DurableTaskClient client;
    private readonly OperationStore records;
    private readonly DatabaseSlots slots;
    private readonly TimeProvider time;

    /// <summary>Creates the service over <paramref name="client"/> (a Durable client binding's client).</summary>
    public DurableOperations(DurableTaskClient client, OperationStore records, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(records);
        this.client = client;
        this.records = records;
        this.time = time ?? TimeProvider.System;
        slots = new DatabaseSlots(records.Objects, records.Signer, this.time);
    }

    /// <inheritdoc />
    public string NewId(string kind) => (kind == OperationKinds.Drill ? "drill-" : "op-") + BackupId.New(time.GetUtcNow());

    /// <inheritdoc />
    public async Task<OperationSubmission> SubmitAsync(OperationRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Status == OperationStatus.Queued && record.SlotDatabase is { } database
            && await slots.TryAcquireAsync(database, record.Id, IsLiveAsync, cancellationToken).ConfigureAwait(false) is { } holder)
        {
            return new OperationSubmission(await GetAsync(holder, cancellationToken).ConfigureAwait(false) ?? record with { Id = holder, Status = OperationStatus.Running, ResponseUrl = null }, true);
        }

        var name = record.Kind == OperationKinds.Drill ? DrillOrchestrationName : OperationWorkflow.Name;
        await client.ScheduleNewOrchestrationInstanceAsync(name, record, new StartOrchestrationOptions(record.Id), cancellationToken).ConfigureAwait(false);
        return new OperationSubmission(record, false);
    }

    /// <inheritdoc />
    public async Task<OperationRecord?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (instance?.ReadInputAs<OperationRecord>() is not { } record || record.Id != id)
        {
            return null;
        }

        var state = instance.SerializedCustomStatus is null ? null : instance.ReadCustomStatusAs<OperationState>();
        record = record with { UpdatedAt = instance.LastUpdatedAt, ApprovedBy = state?.ApprovedBy ?? record.ApprovedBy, RejectedBy = state?.RejectedBy };
        switch (instance.RuntimeStatus)
        {
            case OrchestrationRuntimeStatus.Pending:
                return record;
            case OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended:
                if (state?.Status == OperationStatus.AwaitingApproval)
                {
                    return record with { Status = OperationStatus.AwaitingApproval };
                }

                var progress = await records.ReadProgressAsync(id, cancellationToken).ConfigureAwait(false);
                return record with { Status = OperationStatus.Running, Phase = progress?.Phase ?? "running", Bytes = progress?.Bytes, Tables = progress?.Tables };
            case OrchestrationRuntimeStatus.Completed when record.Kind == OperationKinds.Drill:
                var report = instance.ReadOutputAs<DrillReport>()!;
                return record with { Status = OperationStatus.Succeeded, Phase = "done", Result = OperationExecutor.Element(OperationExecutor.Summarize(report)) };
            case OrchestrationRuntimeStatus.Completed:
                var outcome = instance.ReadOutputAs<OperationOutcome>()!;
                return record with { Status = outcome.Status, Phase = outcome.Status == OperationStatus.Succeeded ? "done" : null, Result = outcome.Result, ErrorKind = outcome.ErrorKind, Error = outcome.Error };
            default:
                // Failed or terminated by the runtime: the orchestration itself broke (a bug, or an operator's terminate).
                return record with
                {
                    Status = OperationStatus.Failed,
                    ErrorKind = instance.RuntimeStatus == OrchestrationRuntimeStatus.Terminated ? "Terminated" : "Bug",
                    Error = SecretRedactor.Redact(instance.FailureDetails?.ErrorMessage ?? $"The orchestration ended as {instance.RuntimeStatus}."),
                };
        }
    }

    /// <inheritdoc />
    public async Task<OperationSubmission> ApproveAsync(OperationRecord record, string approvedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.ApprovalDeadline < time.GetUtcNow())
        {
            return new OperationSubmission(record with { Status = OperationStatus.Expired }, false);
        }

        if (record.SlotDatabase is { } database && await slots.TryAcquireAsync(database, record.Id, IsLiveAsync, cancellationToken).ConfigureAwait(false) is { } holder)
        {
            return new OperationSubmission(await GetAsync(holder, cancellationToken).ConfigureAwait(false) ?? record with { Id = holder, Status = OperationStatus.Running }, true);
        }

        await client.RaiseEventAsync(record.Id, OperationWorkflow.ApprovalEvent, new ApprovalDecision(true, approvedBy), cancellationToken).ConfigureAwait(false);
        return new OperationSubmission(record with { Status = OperationStatus.Queued, ApprovedBy = approvedBy, UpdatedAt = time.GetUtcNow() }, false);
    }

    /// <inheritdoc />
    public async Task<OperationRecord> RejectAsync(OperationRecord record, string rejectedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await client.RaiseEventAsync(record.Id, OperationWorkflow.ApprovalEvent, new ApprovalDecision(false, rejectedBy), cancellationToken).ConfigureAwait(false);
        var outcome = InProcessOperations.Rejected(record, rejectedBy);
        return record with { Status = outcome.Status, ErrorKind = outcome.ErrorKind, Error = outcome.Error, RejectedBy = rejectedBy, UpdatedAt = time.GetUtcNow() };
    }

    private async Task<bool?> IsLiveAsync(string id, CancellationToken cancellationToken)
    {
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false);
        return instance is null ? null : instance.RuntimeStatus is OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended;
    }
}
