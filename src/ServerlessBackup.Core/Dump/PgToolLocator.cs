using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Dump;

/// <summary>
/// Finds PostgreSQL client tools (pg_dump, pg_restore): a configured path, else every copy on
/// PATH and under /usr/lib/postgresql/*/bin, and picks the newest whose major version is at least
/// the server's (pg_dump refuses, or worse, misreads, servers newer than itself). Programs come
/// before scripts that start them (Debian's pg_wrapper, a Perl script behind /usr/bin/pg_restore,
/// costs every run 0.1 to 0.4 s of start-up): scripts are asked only when no program will do, and
/// of two copies of one version the program wins.
/// </summary>
public static partial class PgToolLocator
{
    [GeneratedRegex(@"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")]
    private static partial Regex VersionPattern();

    /// <summary>Every copy of <paramref name="tool"/> found, newest first.</summary>
    /// <param name="tool">pg_dump or pg_restore.</param>
    /// <param name="configuredPath">The configured path, if any (then only it is tried).</param>
    /// <param name="cancellationToken">Cancels the search.</param>
    /// <param name="scripts">Whether to ask scripts that start a copy (Debian's pg_wrapper) too, not only the programs themselves.</param>
    public static async Task<IReadOnlyList<PgToolVersion>> FindAllAsync(string tool, string? configuredPath, CancellationToken cancellationToken = default, bool scripts = true)
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

        // Each copy once (by the file it really is), all asked at the same time.
        var copies = candidates.Where(File.Exists).Select(c => (Path: c, Real: RealPath(c))).DistinctBy(c => c.Real, StringComparer.Ordinal)
            .Select(c => (c.Path, Script: IsScript(c.Real))).Where(c => scripts || !c.Script || configuredPath is not null).ToList();
        var versions = await Task.WhenAll(copies.Select(c => ReadVersionAsync(c.Path, cancellationToken))).ConfigureAwait(false);
        var found = copies.Zip(versions).Where(c => c.Second is not null).Select(c => (Tool: c.Second!, c.First.Script));
        return found.OrderByDescending(v => v.Tool.Major).ThenByDescending(v => v.Tool.Version, StringComparer.Ordinal).ThenBy(v => v.Script)
            .Select(v => v.Tool).ToList();
    }

    /// <summary>The file <paramref name="path"/> is, every link in it (of the file or of a directory above it) followed.</summary>
    private static string RealPath(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            var resolved = RealPathNative(path, 0);
            if (resolved != 0)
            {
                try
                {
                    return Marshal.PtrToStringUTF8(resolved) ?? path;
                }
                finally
                {
                    Free(resolved);
                }
            }
        }

        return new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);

    /// <summary>Whether <paramref name="path"/> is a script (starts with "#!") rather than a program.</summary>
    private static bool IsScript(string path)
    {
        try
        {
            Span<byte> start = stackalloc byte[2];
            using var file = File.OpenHandle(path);
            return RandomAccess.Read(file, start, 0) == 2 && start.SequenceEqual("#!"u8);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The newest <paramref name="tool"/> whose major version is at least <paramref name="requiredMajor"/>.</summary>
    /// <param name="tool">pg_dump or pg_restore.</param>
    /// <param name="configuredPath">The configured path, if any (then only it is tried).</param>
    /// <param name="settingName">The setting that configures the path, for messages (Dump:PgDumpPath).</param>
    /// <param name="requiredMajor">The oldest major version that will do.</param>
    /// <param name="why">Why that version is needed, as the start of a sentence ("The server for database 'shop' runs PostgreSQL 17").</param>
    /// <param name="cancellationToken">Cancels the search.</param>
    /// <param name="found">The programs, already being asked (<see cref="FindAllAsync"/> without scripts, same tool and path), or null to ask them now.</param>
    /// <exception cref="SbkException">Configuration, saying which client version to install.</exception>
    public static async Task<PgToolVersion> SelectAsync(string tool, string? configuredPath, string settingName, int requiredMajor, string why, CancellationToken cancellationToken = default, Task<IReadOnlyList<PgToolVersion>>? found = null)
    {
        // The programs first: a script (Debian's Perl pg_wrapper) only starts one of them, and asking it costs a Perl start-up.
        var programs = await (found ?? FindAllAsync(tool, configuredPath, cancellationToken, scripts: false)).ConfigureAwait(false);
        if (programs.Count > 0 && programs[0].Major >= requiredMajor)
        {
            return programs[0];
        }

        var all = await FindAllAsync(tool, configuredPath, cancellationToken).ConfigureAwait(false);
        var install = $"install the PostgreSQL {requiredMajor} client (Debian/Ubuntu: apt-get install postgresql-client-{requiredMajor}, from apt.postgresql.org for versions newer than the distribution's)";
        if (all.Count == 0)
        {
            throw new SbkException(SbkErrorKind.Configuration, configuredPath is null
                ? $"No {tool} was found on PATH or under /usr/lib/postgresql/*/bin. {why}: {install}, or set {settingName}."
                : $"The configured {tool} ({configuredPath}) does not run or does not report a PostgreSQL version. Fix {settingName} or remove it to search PATH.");
        }

        var best = all[0];
        if (best.Major < requiredMajor)
        {
            var seen = string.Join(", ", all.Select(v => $"{v.Version} at {v.Path}"));
            throw new SbkException(SbkErrorKind.Configuration,
                $"{why}, but the newest {tool} here is {best.Version} ({seen}); it must be version {requiredMajor} or newer. To fix it, {install} and run again, or point {settingName} at a {tool} {requiredMajor} or newer.");
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
