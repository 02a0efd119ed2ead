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
}
