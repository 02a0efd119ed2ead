namespace ServerlessBackup.Workflows;

/// <summary>An activity failed on its last attempt. The message is the activity's (already free of secrets).</summary>
public sealed class ActivityFailedException : Exception
{
    /// <summary>Creates the exception for <paramref name="activity"/>, with the activity's own message.</summary>
    public ActivityFailedException(string activity, string message)
        : base(message)
    {
        Activity = activity;
    }

    /// <summary>Creates the exception (for serializers and analyzers; prefer the activity overload).</summary>
    public ActivityFailedException()
        : this("unknown", "An activity failed.")
    {
    }

    public ActivityFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Activity = "unknown";
    }

    /// <summary>Creates the exception (for serializers and analyzers; prefer the activity overload).</summary>
    public ActivityFailedException(string message)
        : this("unknown", message)
    {
    }

    /// <summary>The activity's name.</summary>
    public string Activity { get; } = "unknown";
}
