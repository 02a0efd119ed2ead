using System.Diagnostics;

namespace ServerlessBackup.Dump;

/// <summary>What every PostgreSQL client tool sbk runs (pg_dump, pg_restore) has in common.</summary>
internal static class PgProcess
{
    /// <summary>
    /// Starts <paramref name="path"/> with all three standard streams redirected. The connection
    /// (password included) goes into libpq environment variables, never the command line, and
    /// every inherited PG* variable is removed first, so only our connection decides where the
    /// tool connects.
    /// </summary>
    public static Process Start(string path, IEnumerable<string> arguments, PgConnectionInfo? connection, string? database = null)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        if (connection is not null)
        {
            foreach (var (name, value) in connection.ToLibpqEnvironment(database))
            {
                start.Environment[name] = value;
            }
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"{path} did not start.");
    }

    /// <summary>Kills the process (and its children) if it is still running.</summary>
    public static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
