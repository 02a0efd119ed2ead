using System.Text.Json;

namespace ServerlessBackup.Operations;

/// <summary>How an operation ended, as the executor reports it (also the output of its Durable activity).</summary>
/// <param name="Status">One of <see cref="OperationStatus"/>'s end states.</param>
/// <param name="Result">What it did (no table names, no counts: this may be stored in clear).</param>
/// <param name="ErrorKind">The kind of failure.</param>
/// <param name="Error">The failure message, free of secrets.</param>
public sealed record OperationOutcome(string Status, JsonElement? Result, string? ErrorKind, string? Error)
{
    /// <summary>It succeeded with <paramref name="result"/>.</summary>
    public static OperationOutcome Success(JsonElement result) => new(OperationStatus.Succeeded, result, null, null);

    /// <summary>It failed (or ended otherwise) with <paramref name="kind"/> and <paramref name="message"/>.</summary>
    public static OperationOutcome Failure(string kind, string message, string status = OperationStatus.Failed) => new(status, null, kind, message);
}
