namespace ServerlessBackup.Workflows;

/// <summary>
/// What a workflow run did, in order: every call it scheduled (activity or timer, with its input as
/// JSON) and every completion delivered to it (with its result or error, and the runtime time).
/// Replaying a workflow against this history must reproduce the scheduled calls exactly.
/// </summary>
public sealed class WorkflowHistory
{
    /// <summary>The workflow instance's id.</summary>
    public string InstanceId { get; init; } = "replay";

    /// <summary>When the run started (the first value of CurrentUtcDateTime).</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>Calls in the order the workflow scheduled them.</summary>
    public List<ScheduledCall> Scheduled { get; init; } = [];

    /// <summary>Completions in the order they were delivered.</summary>
    public List<DeliveredCompletion> Delivered { get; init; } = [];
}

/// <summary>A call the workflow scheduled.</summary>
/// <param name="Sequence">Its number, from 0.</param>
/// <param name="Kind">"activity" or "timer".</param>
/// <param name="Name">The activity's name, or "timer".</param>
/// <param name="Input">The input as JSON (a timer's: its fire time).</param>
public sealed record ScheduledCall(int Sequence, string Kind, string Name, string Input);

/// <summary>A completion delivered to the workflow.</summary>
/// <param name="Sequence">The call it completes.</param>
/// <param name="Result">The result as JSON, when it succeeded.</param>
/// <param name="Error">The error message, when it failed.</param>
/// <param name="At">The runtime time at delivery (CurrentUtcDateTime from then on).</param>
public sealed record DeliveredCompletion(int Sequence, string? Result, string? Error, DateTimeOffset At);
