using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessBackup.Drills;

namespace ServerlessBackup.Operations;

/// <summary>
/// A long operation started over HTTP (backup, restore, verification, drill). In <c>sbk serve</c>
/// it is kept in the store under <c>_operations/{id}.json</c>; in the Functions app it is the input
/// and status of the Durable orchestration whose instance id is <see cref="Id"/>. Either way any
/// instance (or a restarted one) can answer for it.
/// </summary>
public sealed record OperationRecord
{
    /// <summary>The id: <c>op-yyyyMMddTHHmmssZ-xxxxxx</c>, or <c>drill-…</c> for a drill.</summary>
    public required string Id { get; init; }

    /// <summary>One of <see cref="OperationKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The catalog name of the database (the first one, for a drill).</summary>
    public required string Database { get; init; }

    /// <summary>The backup (id or latest) for restores and verifications.</summary>
    public string? Backup { get; init; }

    /// <summary>The label of a backup.</summary>
    public string? Label { get; init; }

    /// <summary>The restore target: "scratch" or a catalogued database.</summary>
    public string? Target { get; init; }

    /// <summary>The verification level.</summary>
    public string? Level { get; init; }

    /// <summary>What a drill runs (databases, objectives, deadline), decided when it was submitted.</summary>
    public DrillInput? Drill { get; init; }

    /// <summary>One of <see cref="OperationStatus"/>.</summary>
    public required string Status { get; init; }

    /// <summary>Where a running operation is.</summary>
    public string? Phase { get; init; }

    /// <summary>Bytes processed so far.</summary>
    public long? Bytes { get; init; }

    /// <summary>A parallel restore's tables: how many are loaded so far, of how many (null: not counted).</summary>
    public TableCount? Tables { get; init; }

    /// <summary>The result when it succeeded (a manifest summary, a restore result, a verification or drill summary).</summary>
    public JsonElement? Result { get; init; }

    /// <summary>
    /// Why it failed. A failure message can name tables or roles, so the store never keeps it in
    /// clear: <see cref="OperationStore"/> keeps it sealed (<see cref="SealedError"/>) and only its kind in clear.
    /// </summary>
    public string? Error { get; init; }

    /// <summary>The kind of failure (Failed, Configuration, NotFound, Integrity, AlreadyRunning, Cancelled, Interrupted, Expired, Rejected, Bug).</summary>
    public string? ErrorKind { get; init; }

    /// <summary>The failure message, sealed under a key of its own wrapped by the master key.</summary>
    public Crypto.SealedObject? SealedError { get; init; }

    /// <summary>The caller that started it.</summary>
    public required string CreatedBy { get; init; }

    /// <summary>When it was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it last changed (a running operation in <c>sbk serve</c> refreshes it every few seconds).</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Until when a restore into a real database waits for its second approver.</summary>
    public DateTimeOffset? ApprovalDeadline { get; init; }

    /// <summary>The second caller who approved it (restores into real databases).</summary>
    public string? ApprovedBy { get; init; }

    /// <summary>Who rejected it, when it was rejected.</summary>
    public string? RejectedBy { get; init; }

    /// <summary>Slack's response URL, where the outcome is posted. It lets anyone post to the channel, so it is never shown.</summary>
    public string? ResponseUrl { get; init; }

    /// <summary>Whether the operation has ended (succeeded, failed, expired or rejected).</summary>
    [JsonIgnore]
    public bool IsFinished => OperationStatus.IsFinished(Status);

    /// <summary>
    /// The database whose slot this operation holds while it runs (one backup or restore per
    /// database): a backup's database, a restore's target (its source for a scratch restore); none
    /// for verifications and drills, which only read the store and write scratch databases.
    /// </summary>
    [JsonIgnore]
    public string? SlotDatabase => Kind switch
    {
        OperationKinds.Backup => Database,
        OperationKinds.Restore => Target is null or "scratch" ? Database : Target,
        _ => null,
    };

    /// <summary>What a caller may see (no response URL, no sealed values).</summary>
    public OperationView View(string statusUrl) => new(
        Id, Kind, Database, Backup, Label, Target, Level, Drill?.Databases.Select(d => d.Database), Status, Phase, Bytes, Tables, CreatedBy, CreatedAt, UpdatedAt,
        Status == OperationStatus.AwaitingApproval ? ApprovalDeadline : null, ApprovedBy, RejectedBy,
        Status == OperationStatus.AwaitingApproval ? statusUrl + "/approve" : null,
        Status == OperationStatus.AwaitingApproval ? statusUrl + "/reject" : null,
        Kind == OperationKinds.Drill ? "/api/drills/" + Id : null,
        statusUrl, Result, ErrorKind, Error);

    /// <summary>An operation as a caller sees it (member order is the wire order).</summary>
    public sealed record OperationView(
        [property: JsonPropertyName("operationId")] string Id, string Kind, string Database, string? Backup, string? Label, string? Target, string? Level, IEnumerable<string>? Databases,
        string Status, string? Phase, long? Bytes, TableCount? Tables, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? ApprovalDeadline,
        string? ApprovedBy, string? RejectedBy, string? ApproveUrl, string? RejectUrl, string? ReportUrl, string StatusUrl, JsonElement? Result, string? ErrorKind, string? Error);
}

/// <summary>A parallel restore's tables: <paramref name="Loaded"/> of <paramref name="Total"/> have their rows in.</summary>
public sealed record TableCount(int Loaded, int Total)
{
    /// <summary>The count a progress report carries, or null when it counts none.</summary>
    public static TableCount? Of(Backups.WorkProgress progress) =>
        progress is { Tables: > 0 } p ? new TableCount(p.TablesLoaded, p.Tables) : null;
}

/// <summary>The kinds of operation.</summary>
public static class OperationKinds
{
    /// <summary>A backup of a catalogued database.</summary>
    public const string Backup = "backup";

    /// <summary>A restore into scratch or (approved) into a catalogued database.</summary>
    public const string Restore = "restore";

    /// <summary>A verification of a backup.</summary>
    public const string Verification = "verification";

    /// <summary>A restore drill over one or more databases.</summary>
    public const string Drill = "drill";
}

/// <summary>The states of an operation, as the API shows them.</summary>
public static class OperationStatus
{
    /// <summary>A restore into a real database, waiting for a second caller.</summary>
    public const string AwaitingApproval = "awaiting-approval";

    /// <summary>Accepted, not started yet.</summary>
    public const string Queued = "queued";

    /// <summary>Running (see the phase).</summary>
    public const string Running = "running";

    /// <summary>Ended well; the result says what it did.</summary>
    public const string Succeeded = "succeeded";

    /// <summary>Ended badly; the error says why.</summary>
    public const string Failed = "failed";

    /// <summary>Nobody approved it in time; nothing was changed.</summary>
    public const string Expired = "expired";

    /// <summary>A caller rejected it; nothing was changed.</summary>
    public const string Rejected = "rejected";

    /// <summary>Whether <paramref name="status"/> is an end state.</summary>
    public static bool IsFinished(string status) => status is Succeeded or Failed or Expired or Rejected;
}
