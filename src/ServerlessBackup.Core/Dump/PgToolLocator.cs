using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Dump;

/// <summary>
/// Finds PostgreSQL client tools (pg_dump, pg_restore): a configured path, else every copy on
/// PATH and under /usr/lib/postgresql/*/bin, and picks the newest whose major version is at least
/// the server's (pg_dump refuses, or worse, misreads, servers newer than itself).
/// </summary>
public static partial class PgToolLocator
{
    [GeneratedRegex(@"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")]
    private static partial Regex VersionPattern();

    /// <summary>Every copy of <paramref name="tool"/> found, newest first.</summary>
    public static async Task<IReadOnlyList<PgToolVersion>> FindAllAsync(string tool, string? configuredPath, CancellationToken cancellationToken = default)
    {
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(configuredPath))
        {
            candidates.Add(configuredPath);
        }
        else
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                candidates.Add(Path.Combine(dir, tool));
            }

            foreach (var root in new[] { "/usr/lib/postgresql", "/usr/local/pgsql", "/opt/homebrew/opt" })
            {
                if (Directory.Exists(root))
                {
                    candidates.AddRange(Directory.GetDirectories(root).Select(d => Path.Combine(d, "bin", tool)));
                }
            }
        }

        var found = new Dictionary<string, PgToolVersion>(StringComparer.Ordinal);
        foreach (var candidate in candidates.Where(File.Exists))
        {
            var real = new FileInfo(candidate).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(candidate);
            if (found.ContainsKey(real))
            {
                continue;
            }

            var version = await ReadVersionAsync(candidate, cancellationToken).ConfigureAwait(false);
            if (version is not null)
            {
                found[real] = version;
            }
        }

        return found.Values.OrderByDescending(v => v.Major).ThenByDescending(v => v.Version, StringComparer.Ordinal).ToList();
    }

    /// <summary>The newest <paramref name="tool"/> that can work with a server of major version <paramref name="serverMajor"/>.</summary>
    /// <exception cref="SbkException">Configuration, saying which client version to install.</exception>
    public static async Task<PgToolVersion> SelectAsync(string tool, string? configuredPath, int serverMajor, string forWhat, CancellationToken cancellationToken = default)
    {
        var all = await FindAllAsync(tool, configuredPath, cancellationToken).ConfigureAwait(false);
        if (all.Count == 0)
        {
            throw new SbkException(SbkErrorKind.Configuration, configuredPath is null
                ? $"No {tool} was found on PATH or under /usr/lib/postgresql/*/bin, so {forWhat} cannot run. Install the PostgreSQL {serverMajor} client (Debian/Ubuntu: apt-get install postgresql-client-{serverMajor}, from apt.postgresql.org for versions newer than the distribution's) or set Dump:PgDumpPath."
                : $"The configured {tool} ({configuredPath}) does not run or does not report a PostgreSQL version. Fix Dump:PgDumpPath or remove it to search PATH.");
        }

        var best = all[0];
        if (best.Major < serverMajor)
        {
            var seen = string.Join(", ", all.Select(v => $"{v.Version} at {v.Path}"));
            throw new SbkException(SbkErrorKind.Configuration,
                $"The server for {forWhat} runs PostgreSQL {serverMajor}, but the newest {tool} here is {best.Version} ({seen}). {tool} must be at least as new as the server: install the PostgreSQL {serverMajor} client (Debian/Ubuntu: apt-get install postgresql-client-{serverMajor} from apt.postgresql.org) and run again, or point Dump:PgDumpPath at a {tool} {serverMajor} or newer.");
        }

        return best;
    }

    private static async Task<PgToolVersion?> ReadVersionAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(path, "--version")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return null;
            }

            var output = await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            var match = VersionPattern().Match(output);
            if (process.ExitCode != 0 || !match.Success)
            {
                return null;
            }

            var major = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            var version = match.Groups[2].Success ? $"{major}.{match.Groups[2].Value}" : match.Groups[1].Value;
            return new PgToolVersion(Path.GetFullPath(path), major, version);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
