using System.CommandLine;
using System.Globalization;
using ServerlessBackup.Verify;

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
    public static Option<int?> Jobs(string description) =>
        Count("--jobs", 1, 64, description + " Default: the catalog's RestoreJobs for the database (1 unless set).", "-j");

    /// <summary>
    /// An optional whole number from <paramref name="min"/> to <paramref name="max"/>; anything else
    /// ("abc", "0", "1.5") is a usage error that says what is wanted, not .NET's name for the type.
    /// </summary>
    public static Option<int?> Count(string name, int min, int max, string description, params string[] aliases) =>
        new(name, aliases)
        {
            Description = description,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
                if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max)
                {
                    return n;
                }

                result.AddError($"{name} must be a whole number from {min} to {max}, not '{text}'.");
                return null;
            },
        };

    /// <summary>
    /// A verification level option: archive, restore, census or assertions, in any case; from
    /// <paramref name="lowest"/> up. Anything else is a usage error that lists what is accepted.
    /// </summary>
    public static Option<VerificationLevel> Level(string description, VerificationLevel lowest, params string[] aliases)
    {
        var accepted = Enum.GetValues<VerificationLevel>().Where(l => l >= lowest).ToList();
        var names = accepted.Select(l => l.ToString().ToLowerInvariant()).ToList();
        return new("--level", aliases)
        {
            Description = description,
            HelpName = string.Join("|", names),
            DefaultValueFactory = _ => VerificationLevel.Assertions,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
                if (Enum.TryParse<VerificationLevel>(text, ignoreCase: true, out var level) && !int.TryParse(text, out _) && accepted.Contains(level))
                {
                    return level;
                }

                result.AddError($"--level must be {string.Join(", ", names[..^1])} or {names[^1]}, not '{text}'.");
                return lowest;
            },
        };
    }

    /// <summary>--tolerate for commands that run pg_restore.</summary>
    public static Option<string[]> Tolerate() =>
        new("--tolerate") { Description = "Tolerate pg_restore errors containing this text (e.g. 'extension \"pg_stat_statements\"'); repeatable." };

    /// <summary>The backup argument: an id or 'latest' (the default).</summary>
    public static Argument<string> Backup() => new("backup") { Description = "A backup id, or 'latest' (the default).", DefaultValueFactory = _ => "latest" };
}
