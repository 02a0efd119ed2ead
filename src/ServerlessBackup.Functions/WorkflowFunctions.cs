using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using ServerlessBackup.Drills;
using ServerlessBackup.Operations;
using ServerlessBackup.Schedules;
using ServerlessBackup.Workflows;

namespace ServerlessBackup.Functions;

/// <summary>
/// The orchestrations: each is the engine's workflow (the same code <c>sbk</c> runs in-process)
/// over the Durable context. Orchestrator code is replayed: it must stay deterministic, which the
/// workflows guarantee (see <see cref="WorkflowContext"/>).
/// </summary>
public static class WorkflowFunctions
{
    /// <summary>An API operation: approval wait when needed, then the engine, then Slack.</summary>
    [Function(OperationWorkflow.Name)]
    public static Task<OperationOutcome> OperationAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return OperationWorkflow.RunAsync(new DurableWorkflowContext(context), context.GetInput<OperationRecord>()!);
    }

    /// <summary>A restore drill (its input is the drill operation's record).</summary>
    [Function(DurableOperations.DrillOrchestrationName)]
    public static Task<DrillReport> DrillAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return DrillWorkflow.RunAsync(new DurableWorkflowContext(context), context.GetInput<OperationRecord>()!.Drill!);
    }

    /// <summary>Backs up the due databases of one tick, MaxParallelBackups at once.</summary>
    [Function(RunDueWorkflow.Name)]
    public static Task<IReadOnlyList<RunDueResult>> RunDueAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return RunDueWorkflow.RunAsync(new DurableWorkflowContext(context), context.GetInput<RunDueInput>()!);
    }
}
