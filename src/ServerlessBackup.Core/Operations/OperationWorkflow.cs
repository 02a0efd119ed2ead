using ServerlessBackup.Workflows;

namespace ServerlessBackup.Operations;

/// <summary>
/// An operation as a Durable orchestration (the Functions app; instance id = operation id). A
/// restore into a real database first waits for the <see cref="ApprovalEvent"/>: a rejection, or no
/// approval by the deadline, ends it without touching anything; an approval by the caller who
/// started it is ignored (the API refuses it, and a forged event changes nothing). Then one
/// activity runs the operation with the engine, and the outcome is posted to Slack when the
/// operation came from there. The status the API shows is published as the custom status.
/// </summary>
public static class OperationWorkflow
{
    /// <summary>The orchestration's name.</summary>
    public const string Name = "Operation";

    /// <summary>Activity names.</summary>
    public const string Run = "operation-run", PostOutcome = "operation-post-outcome";

    /// <summary>The external event that approves or rejects a waiting restore (payload: <see cref="ApprovalDecision"/>).</summary>
    public const string ApprovalEvent = "approval";

    private static readonly ActivityRetry Once = new(1, TimeSpan.Zero);
    private static readonly ActivityRetry Twice = new(2, TimeSpan.FromSeconds(5));

    /// <summary>Runs the operation <paramref name="request"/> (as submitted) to its end.</summary>
    public static async Task<OperationOutcome> RunAsync(WorkflowContext context, OperationRecord request)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        var record = request;
        OperationOutcome? outcome = null;
        if (record.Status == OperationStatus.AwaitingApproval)
        {
            context.SetCustomStatus(new OperationState(OperationStatus.AwaitingApproval, null, null));
            var deadline = record.ApprovalDeadline ?? record.CreatedAt.AddHours(24);
            while (outcome is null)
            {
                var (received, decision) = await context.WaitForExternalEventAsync<ApprovalDecision>(ApprovalEvent, deadline).ConfigureAwait(true);
                if (!received)
                {
                    outcome = InProcessOperations.Expired(record);
                }
                else if (decision is { Approved: false, By.Length: > 0 })
                {
                    record = record with { RejectedBy = decision.By };
                    outcome = InProcessOperations.Rejected(record, decision.By);
                }
                else if (decision is { Approved: true, By.Length: > 0 } && decision.By != record.CreatedBy)
                {
                    record = record with { ApprovedBy = decision.By, Status = OperationStatus.Queued };
                    break;
                }

                // Anything else (a self-approval, an empty payload) is ignored: keep waiting.
            }
        }

        if (outcome is null)
        {
            context.SetCustomStatus(new OperationState(OperationStatus.Running, record.ApprovedBy, null));
            try
            {
                outcome = await context.CallActivityAsync<OperationOutcome>(Run, record with { Status = OperationStatus.Running }, Once).ConfigureAwait(true);
            }
            catch (ActivityFailedException ex)
            {
                outcome = OperationOutcome.Failure("Failed", ex.Message);
            }
        }

        context.SetCustomStatus(new OperationState(outcome.Status, record.ApprovedBy, record.RejectedBy));
        if (record.ResponseUrl is not null)
        {
            try
            {
                await context.CallActivityAsync<bool>(PostOutcome, record with { Status = outcome.Status, Result = outcome.Result, ErrorKind = outcome.ErrorKind, Error = outcome.Error }, Twice).ConfigureAwait(true);
            }
            catch (ActivityFailedException)
            {
                // Best effort: the outcome stands whether or not Slack heard of it.
            }
        }

        return outcome;
    }
}

/// <summary>A second caller's decision on a restore waiting for approval.</summary>
/// <param name="Approved">Approve (true) or reject (false).</param>
/// <param name="By">The caller's name.</param>
public sealed record ApprovalDecision(bool Approved, string By);

/// <summary>The custom status of an operation orchestration.</summary>
/// <param name="Status">awaiting-approval, running, or the end state.</param>
/// <param name="ApprovedBy">The second caller who approved it.</param>
/// <param name="RejectedBy">Who rejected it.</param>
public sealed record OperationState(string Status, string? ApprovedBy, string? RejectedBy);
