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

    /// <summary>pg_dump -Fc of <paramref name="database"/> (uncompressed unless <paramref name="compressed"/>) into <paramref name="path"/>, through a pipe as sbk takes it, or written to the file by pg_dump (which then records each block's offset).</summary>
    public static async Task DumpAsync(TestDatabase database, string path, bool piped, bool compressed = false)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true };
        var dump = $"pg_dump -h {TestServers.Host} -p {TestServers.Port} -U postgres -Fc{(compressed ? string.Empty : " -Z0")} {database.Name}";
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(piped ? $"{dump} | cat > '{path}'" : $"{dump} -f '{path}'");
        start.Environment["PGPASSWORD"] = TestServers.Password;
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await errors);
    }

    /// <summary>The SQL script pg_restore makes of <paramref name="archive"/>, read from standard input as sbk feeds it (every statement and every row, in order), without the per-run \restrict key.</summary>
    public static async Task<string> ScriptAsync(string archive)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"pg_restore -f - < '{archive}'");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await errors);

        // Newer pg_restore guards the script with a random \restrict key of each run's own.
        return string.Join('\n', (await output).Split('\n').Where(line => !line.StartsWith("\\restrict ", StringComparison.Ordinal) && !line.StartsWith("\\unrestrict ", StringComparison.Ordinal)));
    }

    /// <summary>Restores <paramref name="archive"/> with pg_restore -j 2 into a new database and asserts it holds exactly what <paramref name="source"/> holds.</summary>
    public static async Task AssertRestoresAsAsync(string archive, TestDatabase source)
    {
        await using var copy = await TestDatabase.CreateAsync("copy");
        var (exit, errors) = await RestoreAsync(archive, copy, jobs: 2);
        Assert.True(exit == 0, errors);
        Assert.Equal(await source.FingerprintAsync(), await copy.FingerprintAsync());
    }
}
