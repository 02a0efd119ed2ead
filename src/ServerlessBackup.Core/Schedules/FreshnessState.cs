namespace ServerlessBackup.Schedules;

/// <summary>How a database stands.</summary>
public enum FreshnessState
{
    /// <summary>The newest complete backup is within the recovery point objective, and the last attempt succeeded.</summary>
    Ok,
    /// <summary>No complete backup within the recovery point objective (or none at all).</summary>
    Late,
    /// <summary>The newest backup attempt failed.</summary>
    Failing,
}
