using System.CommandLine;

namespace ServerlessBackup.Cli.Commands;

/// <summary>Options every command accepts.</summary>
internal static class GlobalOptions
{
    public static readonly Option<string?> Config = new("--config", "-c")
    {
        Description = $"The configuration file (default: {CliContext.DefaultConfigFile} in the current directory). SBK_* environment variables override it (SBK_Store__Kind=AzureBlob).",
        Recursive = true,
    };

    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Log what the engine does (to stderr).",
        Recursive = true,
    };

    public static Option<bool> Json() => new("--json") { Description = "Write the result as JSON on stdout." };

    /// <summary>--jobs for commands that run pg_restore.</summary>
    public static Option<int?> Jobs(string description)
    {
        var jobs = new Option<int?>("--jobs", "-j") { Description = description + " Default: the catalog's RestoreJobs for the database (1 unless set)." };
        jobs.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1 or > 64)
            {
                result.AddError("--jobs must be between 1 and 64.");
            }
        });
        return jobs;
    }

    /// <summary>--tolerate for commands that run pg_restore.</summary>
    public static Option<string[]> Tolerate() =>
        new("--tolerate") { Description = "Tolerate pg_restore errors containing this text (e.g. 'extension \"pg_stat_statements\"'); repeatable." };

    /// <summary>The backup argument: an id or 'latest' (the default).</summary>
    public static Argument<string> Backup() => new("backup") { Description = "A backup id, or 'latest' (the default).", DefaultValueFactory = _ => "latest" };
}
