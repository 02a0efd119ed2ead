namespace ServerlessBackup.Workflows;

/// <summary>A replay made a different call than the recorded run: the workflow is not deterministic.</summary>
public sealed class WorkflowNonDeterminismException : Exception
{
    public WorkflowNonDeterminismException(string message)
        : base(message)
    {
    }

    public WorkflowNonDeterminismException()
    {
    }

    public WorkflowNonDeterminismException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
