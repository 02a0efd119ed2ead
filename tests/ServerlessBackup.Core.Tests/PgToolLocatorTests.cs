using ServerlessBackup.Dump;

namespace ServerlessBackup.Tests;

/// <summary>Which pg_restore and pg_dump sbk runs, out of every copy on the machine.</summary>
public sealed class PgToolLocatorTests
{
    [Theory]
    [InlineData("pg_restore")]
    [InlineData("pg_dump")]
    public async Task Each_copy_is_asked_once_and_the_program_is_run_rather_than_a_script_that_starts_it(string tool)
    {
        var all = await PgToolLocator.FindAllAsync(tool, null);
        Assert.NotEmpty(all);

        // /bin is a link to /usr/bin here: one file under two names is one copy.
        Assert.Equal(all.Count, all.Select(t => Path.GetFullPath(t.Path)).Distinct().Count());
        var best = await PgToolLocator.SelectAsync(tool, null, "Dump:PgDumpPath", all[0].Major, "test");
        Assert.False(StartsWithShebang(best.Path), $"{best.Path} is a script ({string.Join(", ", all.Select(t => t.Path))})");

        // Debian's /usr/bin/pg_restore is the Perl pg_wrapper: where it is, it is found and not chosen.
        var onPath = Path.Combine("/usr/bin", tool);
        if (File.Exists(onPath) && StartsWithShebang(onPath))
        {
            Assert.Contains(all, t => StartsWithShebang(t.Path) && t.Version == best.Version);
        }
        else
        {
            Console.WriteLine($"{onPath} is not a script here: only the choice among programs is checked.");
        }
    }

    [Fact]
    public async Task When_no_program_is_new_enough_every_copy_scripts_included_is_named_with_the_client_to_install()
    {
        var ex = await Assert.ThrowsAsync<Errors.SbkException>(() =>
            PgToolLocator.SelectAsync("pg_restore", null, "Scratch:PgRestorePath", 99, "Backup b was written by pg_dump 99.1"));
        Assert.Equal(Errors.SbkErrorKind.Configuration, ex.Kind);
        Assert.Contains("postgresql-client-99", ex.Message);
        Assert.Contains("Scratch:PgRestorePath", ex.Message);
        foreach (var copy in await PgToolLocator.FindAllAsync("pg_restore", null))
        {
            Assert.Contains(copy.Path, ex.Message);
        }

        if (File.Exists("/usr/bin/pg_restore") && StartsWithShebang("/usr/bin/pg_restore"))
        {
            Assert.Contains("/usr/bin/pg_restore", ex.Message);
        }
    }

    private static bool StartsWithShebang(string path)
    {
        var start = new byte[2];
        using var file = File.OpenRead(path);
        return file.Read(start) == 2 && start[0] == '#' && start[1] == '!';
    }
}
