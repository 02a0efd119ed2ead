using System.Diagnostics;
using ServerlessBackup.Restore;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>A dump piped out of pg_dump gets the data offsets a dump written to a file has, so pg_restore -j finds each table at once.</summary>
public sealed class ArchiveOffsetsTests
{
    private static async Task DumpAsync(TestDatabase database, string path, bool piped)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true };
        var dump = $"pg_dump -h {TestServers.Host} -p {TestServers.Port} -U postgres -Fc -Z0 {database.Name}";
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(piped ? $"{dump} | cat > '{path}'" : $"{dump} -f '{path}'");
        start.Environment["PGPASSWORD"] = TestServers.Password;
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await errors);
    }

    [Fact]
    public async Task A_piped_dump_gets_exactly_the_offsets_pg_dump_writes_to_a_file_and_restores_in_parallel()
    {
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema + "CREATE TABLE second AS SELECT g, md5(g::text) AS m FROM generate_series(1, 20000) g; CREATE TABLE third AS SELECT g FROM generate_series(1, 5000) g;");
        var directory = Directory.CreateTempSubdirectory("sbk-offsets-").FullName;
        try
        {
            var file = Path.Combine(directory, "file.dump");
            var piped = Path.Combine(directory, "piped.dump");
            await DumpAsync(source, file, piped: false);
            await DumpAsync(source, piped, piped: true);
            var expected = ArchiveOffsets.Read(file);
            Assert.Contains(expected.Values, v => v is not null);
            Assert.All(ArchiveOffsets.Read(piped).Values, v => Assert.Null(v));

            var filled = ArchiveOffsets.FillIn(piped);

            Assert.Equal(expected.Count(e => e.Value is not null), filled);
            Assert.Equal(expected, ArchiveOffsets.Read(piped));
            Assert.Equal(0, ArchiveOffsets.FillIn(piped)); // nothing left to fill
            await using var copy = await TestDatabase.CreateAsync("copy");
            var (exit, errors) = await PgTools.RestoreAsync(piped, copy, jobs: 2);
            Assert.True(exit == 0, errors);
            Assert.Equal(await source.FingerprintAsync(), await copy.FingerprintAsync());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Anything_else_is_left_exactly_as_it_was()
    {
        var path = Path.GetTempFileName();
        try
        {
            var bytes = "PGDMP\u0001\u0063\u0000 not really an archive"u8.ToArray();
            File.WriteAllBytes(path, bytes);
            Assert.Equal(0, ArchiveOffsets.FillIn(path));
            Assert.Equal(bytes, File.ReadAllBytes(path));
            Assert.Empty(ArchiveOffsets.Read(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
