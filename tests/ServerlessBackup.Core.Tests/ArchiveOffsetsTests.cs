using System.IO.Pipes;
using System.Diagnostics;
using ServerlessBackup.Dump;
using ServerlessBackup.Restore;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>A dump piped out of pg_dump gets, as it lands, the data offsets a dump written to a file has, so pg_restore -j finds each table at once.</summary>
public sealed class ArchiveOffsetsTests
{
    [Fact]
    public async Task A_piped_dump_gets_exactly_the_offsets_pg_dump_writes_to_a_file_and_restores_in_parallel()
    {
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema + "CREATE TABLE second AS SELECT g, md5(g::text) AS m FROM generate_series(1, 20000) g; CREATE TABLE third AS SELECT g FROM generate_series(1, 5000) g;"
            // Several MiB of rows, and one row longer than the scanner's 1 MiB buffer: every way of crossing it.
            + "CREATE TABLE big AS SELECT g, repeat(md5(g::text), 100) AS r FROM generate_series(1, 2000) g; CREATE TABLE wide AS SELECT repeat('x', 3000000) AS w;");
        var directory = Directory.CreateTempSubdirectory("sbk-offsets-").FullName;
        try
        {
            var file = Path.Combine(directory, "file.dump");
            var piped = Path.Combine(directory, "piped.dump");
            await PgTools.DumpAsync(source, file, piped: false);
            await PgTools.DumpAsync(source, piped, piped: true);
            var expected = ArchiveOffsets.Read(file);
            Assert.Contains(expected.Values, v => v is not null);
            Assert.All(ArchiveOffsets.Read(piped).Values, v => Assert.Null(v));

            var landed = Path.Combine(directory, "landed.dump");
            var filled = await LandAsync(piped, landed);

            Assert.Equal(expected.Count(e => e.Value is not null), filled);
            Assert.Equal(expected, ArchiveOffsets.Read(landed));
            Assert.Equal(0, await LandAsync(landed, Path.Combine(directory, "again.dump"))); // nothing left to fill
            await PgTools.AssertRestoresAsAsync(landed, source);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task The_scanner_reports_each_block_where_pg_dump_would_have_put_it_and_only_once_all_of_it_has_arrived()
    {
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema
            + "CREATE TABLE big AS SELECT g, repeat(md5(g::text), 100) AS r FROM generate_series(1, 2000) g; CREATE TABLE wide AS SELECT repeat('x', 3000000) AS w;"
            + "SELECT lo_from_bytea(0, decode(repeat('ab', 100000), 'hex')); SELECT lo_from_bytea(0, 'small'::bytea);");
        var directory = Directory.CreateTempSubdirectory("sbk-scan-").FullName;
        try
        {
            var file = Path.Combine(directory, "file.dump");
            var piped = Path.Combine(directory, "piped.dump");
            await PgTools.DumpAsync(source, file, piped: false);
            await PgTools.DumpAsync(source, piped, piped: true);
            var expected = ArchiveOffsets.Read(file).Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value!.Value);
            var bytes = await File.ReadAllBytesAsync(piped);

            IReadOnlyList<ArchiveOffsets.TocEntry>? toc = null;
            long tocEnd = 0;
            var reported = new Dictionary<int, (long Start, long End, long Arrived)>();
            var started = new Dictionary<int, (long Start, long Arrived)>();
            long arrived = 0;
            var scanner = new ArchiveBlockScanner(
                (entries, _, end) => (toc, tocEnd) = (entries, end),
                (id, start, end) => Assert.True(reported.TryAdd(id, (start, end, arrived)), $"block {id} reported twice"),
                (id, start) => Assert.True(started.TryAdd(id, (start, arrived)), $"block {id} started twice"));
            // In pieces of every size, as a network delivers them: integers and chunks straddle pieces.
            var random = new Random(7);
            for (var at = 0; at < bytes.Length;)
            {
                var n = Math.Min(bytes.Length - at, random.Next(1, 200_000));
                arrived = at + n;
                scanner.Push(bytes.AsSpan(at, n));
                at += n;
            }

            Assert.False(scanner.Lost);
            Assert.NotNull(toc);
            Assert.Contains(toc, e => e.HasData && e.Section == ArchiveOffsets.SectionData);
            Assert.Equal(expected.OrderBy(e => e.Key), reported.Select(r => KeyValuePair.Create(r.Key, r.Value.Start)).OrderBy(e => e.Key));
            // Blocks follow the table of contents and each other with nothing between; each is reported
            // only once its last byte has arrived, and started once its header has (before its end).
            var byStart = reported.Values.OrderBy(r => r.Start).ToList();
            Assert.Equal(tocEnd, byStart[0].Start);
            var ends = byStart.Select(r => r.Start).Skip(1).Append(bytes.Length).ToList();
            for (var i = 0; i < byStart.Count; i++)
            {
                Assert.Equal(ends[i], byStart[i].End);
                Assert.True(byStart[i].Arrived >= ends[i], $"the block at {byStart[i].Start} was reported with {byStart[i].Arrived} bytes in, before its end at {ends[i]}");
            }

            Assert.Equal(reported.Keys.Order(), started.Keys.Order());
            Assert.All(started, s => Assert.True(s.Value.Start == reported[s.Key].Start && s.Value.Arrived > s.Value.Start && (s.Value.Arrived < reported[s.Key].End || s.Value.Arrived == reported[s.Key].Arrived),
                $"block {s.Key} started at {s.Value.Start} with {s.Value.Arrived} bytes in"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_scanner_follows_nothing_that_is_not_a_custom_format_archive()
    {
        var reported = 0;
        var scanner = new ArchiveBlockScanner((_, _, _) => reported++, (_, _, _) => reported++, (_, _) => reported++);
        scanner.Push("PGDMP but not really, and then some more bytes"u8);
        scanner.Push(new byte[100_000]);
        Assert.True(scanner.Lost);
        Assert.Equal(0, reported);
    }

    [Fact]
    public async Task Anything_else_is_left_exactly_as_it_was()
    {
        var path = Path.GetTempFileName();
        var landed = path + ".landed";
        try
        {
            var bytes = "PGDMP\u0001\u0063\u0000 not really an archive"u8.ToArray();
            File.WriteAllBytes(path, bytes);
            Assert.Equal(0, await LandAsync(path, landed));
            Assert.Equal(bytes, File.ReadAllBytes(landed));
            Assert.Empty(ArchiveOffsets.Read(landed));
        }
        finally
        {
            File.Delete(path);
            File.Delete(landed);
        }
    }

    [Fact]
    public async Task A_block_read_as_it_lands_waits_for_more_ends_with_its_block_and_is_given_up_if_its_end_never_lands()
    {
        var path = Path.GetTempFileName();
        try
        {
            // Ten bytes of "header and table of contents", then a block of which twenty bytes have landed.
            var bytes = Enumerable.Range(0, 40).Select(i => (byte)i).ToArray();
            File.WriteAllBytes(path, bytes);
            foreach (var ends in new[] { true, false })
            {
                var watch = new LandingWatch();
                watch.Landed(30);
                await using var block = new LandedBlock(path, tocEnd: 10, dumpId: 7, start: 10, watch);
                var buffer = new byte[100];
                Assert.Equal(bytes[..10], buffer[..await block.ReadAsync(buffer)]);
                Assert.Equal(bytes[10..30], buffer[..await block.ReadAsync(buffer)]);
                var next = block.ReadAsync(buffer).AsTask();
                await Task.Delay(100);
                Assert.False(next.IsCompleted, "a read past what has landed did not wait");
                if (ends)
                {
                    watch.Ended(7, 35);
                    Assert.Equal(bytes[30..35], buffer[..await next]);
                    Assert.Equal(0, await block.ReadAsync(buffer));
                }
                else
                {
                    watch.Landed(40);
                    Assert.Equal(bytes[30..40], buffer[..await next]);
                    watch.Done();
                    await Assert.ThrowsAsync<InvalidDataException>(() => block.ReadAsync(buffer).AsTask());
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_next_table_loaded_is_the_largest_that_has_started_to_land_whole_or_landing_and_the_first_of_equals()
    {
        var watch = new LandingWatch();
        watch.Ended(1, 1_100);   // a small table, whole: 100 bytes from 1,000
        watch.Ended(2, 1_300);   // another, 200 bytes
        watch.Landed(5_000);     // the block of entry 3 started at 1,300 and is still landing: 3,700 so far
        var arrived = new List<(int DumpId, long Start)> { (1, 1_000), (2, 1_100), (3, 1_300) };

        Assert.Equal((3, 1_300L), RestoreEngine.TakeLargest(arrived, watch));
        Assert.Equal((2, 1_100L), RestoreEngine.TakeLargest(arrived, watch));
        Assert.Equal((1, 1_000L), RestoreEngine.TakeLargest(arrived, watch));
        Assert.Empty(arrived);

        watch.Ended(4, 1_500);
        watch.Ended(5, 1_700);
        var equals = new List<(int DumpId, long Start)> { (4, 1_300), (5, 1_500) };
        Assert.Equal(4, RestoreEngine.TakeLargest(equals, watch).DumpId);
    }

    [Fact]
    public Task A_block_moved_into_a_pipe_as_it_lands_carries_the_head_then_its_block_waits_for_more_and_stops_for_a_reader_that_left() => WithLandingFileAsync(async path =>
    {
        // A 1 MiB "header and table of contents", 1 MiB of other blocks, then this block: 3 MiB landed of 4.
        var bytes = new byte[4 << 20];
        Random.Shared.NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        const int TocEnd = 1 << 20, Start = 2 << 20, Landed = 3 << 20, End = (4 << 20) - 5;
        var watch = new LandingWatch();
        watch.Landed(Landed);
        await using var block = new LandedBlock(path, TocEnd, dumpId: 7, Start, watch);
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        using var reader = new AnonymousPipeClientStream(PipeDirection.In, pipe.ClientSafePipeHandle);
        var moving = block.SpliceIntoAsync(pipe, CancellationToken.None);
        var received = new MemoryStream();
        var receiving = Task.Run(async () =>
        {
            var buffer = new byte[1 << 16];
            int n;
            while ((n = await reader.ReadAsync(buffer)) > 0)
            {
                lock (received)
                {
                    received.Write(buffer, 0, n);
                }
            }
        });
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Length() < TocEnd + (Landed - Start) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Equal(TocEnd + (Landed - Start), Length());
        await Task.Delay(100);
        Assert.False(moving.IsCompleted, "the move did not wait for more of the block to land");
        watch.Ended(7, End);
        Assert.True(await moving);
        pipe.Close();
        await receiving;
        Assert.Equal(bytes[..TocEnd].Concat(bytes[Start..End]).ToArray(), received.ToArray());
        Assert.Equal(TocEnd + (End - Start), block.Spliced);

        long Length()
        {
            lock (received)
            {
                return received.Length;
            }
        }

        // A pg_restore that exits (its end of the pipe closed) is a broken pipe, as for a write; a cancellation ends the wait.
        await using var again = new LandedBlock(path, TocEnd, dumpId: 8, Start, watch);
        using var gone = new AnonymousPipeServerStream(PipeDirection.Out);
        gone.DisposeLocalCopyOfClientHandle();
        await Assert.ThrowsAsync<IOException>(() => again.SpliceIntoAsync(gone, CancellationToken.None));
        await using var waiting = new LandedBlock(path, 10, dumpId: 9, Landed, watch);
        using var open = new AnonymousPipeServerStream(PipeDirection.Out);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.SpliceIntoAsync(open, cancel.Token));
    });

    [Fact]
    public Task A_block_moved_into_a_pipe_its_reader_does_not_empty_stops_at_Ctrl_C_without_waiting_for_the_reader() => WithLandingFileAsync(async path =>
    {
        // A whole 4 MiB block into a pipe of 64 KiB that pg_restore (busy with its COPY, or stuck) does not read.
        await File.WriteAllBytesAsync(path, new byte[4 << 20]);
        var watch = new LandingWatch();
        watch.Landed(4 << 20);
        watch.Ended(7, 4 << 20);
        await using var block = new LandedBlock(path, 10, dumpId: 7, 10, watch);
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        using var reader = new AnonymousPipeClientStream(PipeDirection.In, pipe.ClientSafePipeHandle);
        using var cancel = new CancellationTokenSource();
        var moving = block.SpliceIntoAsync(pipe, cancel.Token);
        await Task.Delay(300);
        Assert.False(moving.IsCompleted, "the pipe did not fill");
        Assert.True(block.Spliced > 0);

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => moving.WaitAsync(TimeSpan.FromSeconds(10)));
    });

    [Fact]
    public async Task A_table_fed_to_pg_restore_as_it_lands_goes_into_its_pipe_by_splice_and_pg_restore_reads_every_row_of_it()
    {
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync("CREATE TABLE small AS SELECT g FROM generate_series(1, 10) g; CREATE TABLE big AS SELECT g, repeat(md5(g::text), 100) AS r FROM generate_series(1, 2000) g;");
        var directory = Directory.CreateTempSubdirectory("sbk-splice-").FullName;
        try
        {
            var piped = Path.Combine(directory, "piped.dump");
            await PgTools.DumpAsync(source, piped, piped: true);
            var landed = Path.Combine(directory, "landed.dump");
            long tocEnd = 0;
            var ends = new Dictionary<int, long>();
            await using (var input = File.OpenRead(piped))
            {
                await ArchiveLanding.LandAsync(input, landed, null, (_, end) => tocEnd = end, null, (id, end) => ends[id] = end, CancellationToken.None);
            }

            // The largest block is big's; where it starts is in the landed table of contents.
            var offsets = ArchiveOffsets.Read(landed);
            var (dumpId, blockEnd) = ends.MaxBy(b => b.Value - offsets[b.Key]!.Value);
            var blockStart = offsets[dumpId]!.Value;
            var watch = new LandingWatch();
            watch.Landed(new FileInfo(landed).Length);
            watch.Ended(dumpId, blockEnd);

            var script = Path.Combine(directory, "big.sql");
            var list = Path.Combine(directory, "big.list");
            await File.WriteAllTextAsync(list, $"{dumpId};\n");
            using var process = PgRestoreProcess.Start(new PgToolVersion("pg_restore", 15, "15"), ["--data-only", "-f", script, "--use-list=" + list], null, null, []);
            await using var block = new LandedBlock(landed, tocEnd, dumpId, blockStart, watch);
            Assert.True(await process.FeedAsync(block, null, CancellationToken.None));
            var (exit, _) = await process.WaitAsync(CancellationToken.None);
            Assert.Equal(0, exit);

            if (OperatingSystem.IsLinux())
            {
                Assert.Equal(tocEnd + (blockEnd - blockStart), block.Spliced);
            }

            // The rows pg_restore wrote are those of the whole archive's script, all 2000 of them.
            static string Rows(string sql) => sql[sql.IndexOf("COPY public.big", StringComparison.Ordinal)..(sql.IndexOf("\\.\n", sql.IndexOf("COPY public.big", StringComparison.Ordinal), StringComparison.Ordinal) + 3)];
            var written = await File.ReadAllTextAsync(script);
            Assert.True(written.Contains("COPY public.big", StringComparison.Ordinal), written[..Math.Min(written.Length, 2000)]);
            var rows = Rows(written);
            Assert.Equal(Rows(await PgTools.ScriptAsync(landed)), rows);
            Assert.Equal(2000, rows.Split('\n').Length - 3); // the COPY line, then the rows, then \. and the end of its line
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Runs a splice test with a landing file of its own, removed after; where splice(2) is not (not Linux), says so in one line.</summary>
    private static async Task WithLandingFileAsync(Func<string, Task> test)
    {
        if (!OperatingSystem.IsLinux())
        {
            Console.WriteLine("Cannot run here: splice(2) is Linux's; elsewhere a landed block is copied (tested above).");
            return;
        }

        var path = Path.GetTempFileName();
        try
        {
            await test(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Lands the archive at <paramref name="from"/> as a restore lands a download; returns how many offsets it filled in.</summary>
    private static async Task<int> LandAsync(string from, string to)
    {
        await using var source = File.OpenRead(from);
        return (await ArchiveLanding.LandAsync(source, to, null, null, null, null, CancellationToken.None)).OffsetsFilled;
    }
}
