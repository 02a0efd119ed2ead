using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessBackup.Backups;

namespace ServerlessBackup.Api;

/// <summary>
/// A long operation started over HTTP (backup, restore, verification), kept in the store under
/// <c>_operations/{id}.json</c> so that any instance (or a restarted one) can answer for it.
/// </summary>
public sealed record OperationRecord
{
    /// <summary>The id: <c>op-yyyyMMddTHHmmssZ-xxxxxx</c>.</summary>
    public required string Id { get; init; }

    /// <summary>backup, restore or verification.</summary>
    public required string Kind { get; init; }

    /// <summary>The catalog name of the database.</summary>
    public required string Database { get; init; }

    /// <summary>The backup (id or latest) for restores and verifications.</summary>
    public string? Backup { get; init; }

    /// <summary>The label of a backup.</summary>
    public string? Label { get; init; }

    /// <summary>The restore target: "scratch" or a catalogued database.</summary>
    public string? Target { get; init; }

    /// <summary>The verification level.</summary>
    public string? Level { get; init; }

    /// <summary>awaiting-approval, queued, running, succeeded or failed.</summary>
    public required string Status { get; init; }

    /// <summary>Where a running operation is.</summary>
    public string? Phase { get; init; }

    /// <summary>Bytes processed so far.</summary>
    public long? Bytes { get; init; }

    /// <summary>The result when it succeeded (a manifest summary, a restore result, a verification report).</summary>
    public JsonElement? Result { get; init; }

    /// <summary>
    /// Why it failed, in memory only: a failure message can name tables or roles, so the store
    /// keeps it sealed (<see cref="SealedError"/>) and only its kind in clear.
    /// </summary>
    [JsonIgnore]
    public string? Error { get; init; }

    /// <summary>The kind of failure (Failed, Configuration, NotFound, Integrity, AlreadyRunning, Cancelled, Bug).</summary>
    public string? ErrorKind { get; init; }

    /// <summary>The failure message, sealed under a key of its own wrapped by the master key.</summary>
    public ManifestKeyAndSeal? SealedError { get; init; }

    /// <summary>The caller that started it.</summary>
    public required string CreatedBy { get; init; }

    /// <summary>When it was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it last changed.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The second caller who approved it (restores into real databases).</summary>
    public string? ApprovedBy { get; init; }

    /// <summary>Slack's response URL, where the outcome is posted. It lets anyone post to the channel, so it is never shown.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? ResponseUrl { get; init; }

    /// <summary>Whether the operation has ended.</summary>
    [JsonIgnore]
    public bool IsFinished => Status is "succeeded" or "failed";

    /// <summary>What a caller may see (no response URL).</summary>
    public object View(string statusUrl) => new
    {
        operationId = Id,
        kind = Kind,
        database = Database,
        backup = Backup,
        label = Label,
        target = Target,
        level = Level,
        status = Status,
        phase = Phase,
        bytes = Bytes,
        createdBy = CreatedBy,
        createdAt = CreatedAt,
        updatedAt = UpdatedAt,
        approvedBy = ApprovedBy,
        approveUrl = Status == "awaiting-approval" ? statusUrl + "/approve" : null,
        statusUrl,
        result = Result,
        errorKind = ErrorKind,
        error = Error,
    };
}

/// <summary>A sealed value and the wrapped key that opens it.</summary>
/// <param name="Key">The data key, wrapped by the master key.</param>
/// <param name="Seal">The ciphertext.</param>
public sealed record ManifestKeyAndSeal(ManifestKey Key, ManifestSeal Seal);
