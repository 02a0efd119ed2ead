using System.Diagnostics;

namespace ServerlessBackup.Tests.Infrastructure;

internal static class PgTools
{
    /// <summary>Runs pg_restore of <paramref name="archive"/> into <paramref name="database"/>; returns its exit code and stderr.</summary>
    public static async Task<(int ExitCode, string Errors)> RestoreAsync(string archive, TestDatabase database, int jobs = 1)
    {
        var start = new ProcessStartInfo("pg_restore") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "--no-owner", "--no-privileges", "--exit-on-error", $"--jobs={jobs}", "-h", TestServers.Host, "-p", TestServers.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", "-d", database.Name, archive })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["PGPASSWORD"] = TestServers.Password;
        using var process = Process.Start(start)!;
        var errors = await process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, errors);
    }
}
