namespace ServerlessBackup.Operations;

/// <summary>
/// Where operations run: in this process (<see cref="InProcessOperations"/>, for <c>sbk serve</c>)
/// or as Durable orchestrations (<see cref="DurableOperations"/>, for the Functions app). The API
/// talks to this interface only, so both hosts answer the same requests the same way. Every
/// implementation keeps one backup or restore per database at a time across instances, keeps a
/// restore into a real database waiting until a second caller approves it (or it expires), and
/// answers for any operation after a restart.
/// </summary>
public interface IOperationService
{
    /// <summary>A new operation id for an operation of <paramref name="kind"/>.</summary>
    string NewId(string kind);

    /// <summary>
    /// Records <paramref name="record"/> and, unless it awaits approval, starts it. When another
    /// backup or restore holds the database's slot, nothing is started and that operation is
    /// returned with <c>Conflict</c> set.
    /// </summary>
    Task<OperationSubmission> SubmitAsync(OperationRecord record, CancellationToken cancellationToken = default);

    /// <summary>An operation by id, or null.</summary>
    Task<OperationRecord?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Approves an operation awaiting approval (the caller checked it is a second caller) and starts it; a conflict as for <see cref="SubmitAsync"/>.</summary>
    Task<OperationSubmission> ApproveAsync(OperationRecord record, string approvedBy, CancellationToken cancellationToken = default);

    /// <summary>Rejects an operation awaiting approval: it ends without touching anything.</summary>
    Task<OperationRecord> RejectAsync(OperationRecord record, string rejectedBy, CancellationToken cancellationToken = default);
}

/// <summary>The answer to a submission or an approval.</summary>
/// <param name="Record">The operation (the conflicting one when <paramref name="Conflict"/> is set).</param>
/// <param name="Conflict">Whether another backup or restore of the database holds its slot.</param>
public sealed record OperationSubmission(OperationRecord Record, bool Conflict);
