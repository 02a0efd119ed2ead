using ServerlessBackup.Restore;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>Restores read table data in large chunks instead of pg_dump's one chunk per row, and the archive means exactly what it meant.</summary>
public sealed class ArchiveChunkJoinerTests
{
    [Fact]
    public async Task Rows_are_joined_into_large_chunks_and_the_archive_restores_to_exactly_the_same_script_and_database()
    {
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema
            + "CREATE TABLE many AS SELECT g, md5(g::text) AS m FROM generate_series(1, 40000) g; CREATE TABLE empty_one (x int);"
            // A row longer than a joined chunk and longer than the joiner's read buffer; large objects after the tables.
            + "CREATE TABLE wide AS SELECT repeat('x', 3000000) AS w; CREATE TABLE after_wide AS SELECT g FROM generate_series(1, 5000) g;"
            + "SELECT lo_from_bytea(0, decode(repeat('ab', 100000), 'hex')); SELECT lo_from_bytea(0, 'small'::bytea);");
        var directory = Directory.CreateTempSubdirectory("sbk-join-").FullName;
        try
        {
            var piped = Path.Combine(directory, "piped.dump");
            await PgTools.DumpAsync(source, piped, piped: true);
            var original = await File.ReadAllBytesAsync(piped);
            var expected = await PgTools.ScriptAsync(piped);

            // In pieces of every size, as a download delivers them: integers and chunks straddle reads.
            foreach (var seed in new[] { 1, 2, 3 })
            {
                var joined = await JoinAsync(original, seed);
                var path = Path.Combine(directory, $"joined-{seed}.dump");
                await File.WriteAllBytesAsync(path, joined);
                Assert.Equal(expected, await PgTools.ScriptAsync(path));
                var (chunks, blocks) = DataChunkLengths(joined);
                var (before, _) = DataChunkLengths(original);
                // Full chunks, but for one short last chunk per table.
                Assert.True(chunks.Count <= chunks.Sum() / ArchiveChunkJoiner.ChunkBytes + blocks, $"{chunks.Count} data chunks in {blocks} blocks after joining");
                Assert.True(before.Count > 40000 && before.Sum() == chunks.Sum(), $"{before.Count} chunks, {before.Sum()} bytes before; {chunks.Sum()} bytes after");
                Assert.All(chunks, n => Assert.InRange(n, 1, ArchiveChunkJoiner.ChunkBytes));
                Assert.True(original.Length - joined.Length >= 5 * 40000, $"{original.Length} bytes before joining, {joined.Length} after");
            }

            // Landed (offsets filled in) and restored in parallel: the same database.
            var landed = Path.Combine(directory, "landed.dump");
            await using (var joining = new ArchiveChunkJoiner(File.OpenRead(piped)))
            {
                var result = await ArchiveLanding.LandAsync(joining, landed, null, null, null, null, CancellationToken.None);
                Assert.True(result.OffsetsFilled >= 4);
            }

            await PgTools.AssertRestoresAsAsync(landed, source);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Compressed_archives_archives_that_already_say_where_blocks_are_and_anything_else_pass_as_they_came()
    {
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema + "CREATE TABLE many AS SELECT g, md5(g::text) AS m FROM generate_series(1, 5000) g;");
        var directory = Directory.CreateTempSubdirectory("sbk-join-").FullName;
        try
        {
            var compressed = Path.Combine(directory, "compressed.dump");
            var withOffsets = Path.Combine(directory, "offsets.dump");
            await PgTools.DumpAsync(source, compressed, piped: true, compressed: true);
            await PgTools.DumpAsync(source, withOffsets, piped: false);
            foreach (var bytes in new[] { await File.ReadAllBytesAsync(compressed), await File.ReadAllBytesAsync(withOffsets), "PGDMP\u0001\u0063\u0000 not really an archive"u8.ToArray(), new byte[3_000_000], Array.Empty<byte>() })
            {
                Assert.Equal(bytes, await JoinAsync(bytes, seed: 4));
            }

            // Cut short inside the table data: what arrived goes on (no byte held back), and pg_restore refuses it as it would have.
            var piped = Path.Combine(directory, "piped.dump");
            await PgTools.DumpAsync(source, piped, piped: true);
            var cut = (await File.ReadAllBytesAsync(piped))[..^3000];
            var joinedCut = await JoinAsync(cut, seed: 5);
            Assert.InRange(joinedCut.Length, cut.Length * 9L / 10, cut.Length - 5 * 5000);
            var cutPath = Path.Combine(directory, "cut.dump");
            await File.WriteAllBytesAsync(cutPath, joinedCut);
            await Assert.ThrowsAnyAsync<Exception>(() => PgTools.ScriptAsync(cutPath));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<byte[]> JoinAsync(byte[] archive, int seed)
    {
        await using var joiner = new ArchiveChunkJoiner(new Pieces(archive, new Random(seed)));
        using var result = new MemoryStream();
        var random = new Random(seed + 100);
        var buffer = new byte[1 << 20];
        int n;
        while ((n = await joiner.ReadAsync(buffer.AsMemory(0, random.Next(1, buffer.Length)))) > 0)
        {
            result.Write(buffer, 0, n);
        }

        return result.ToArray();
    }

    /// <summary>The length of every data chunk of the archive's table data and how many tables' blocks there are, walked with pg_dump's layout (header and table of contents, then blocks).</summary>
    private static (List<int> Lengths, int Blocks) DataChunkLengths(byte[] archive)
    {
        using var stream = new MemoryStream(archive);
        var reader = new ArchiveOffsets.Reader(stream);
        reader.ReadHeaderAndToc();
        var lengths = new List<int>();
        var blocks = 0;
        while (reader.Position < archive.Length && reader.Byte() == ArchiveOffsets.BlockData)
        {
            reader.Int(); // dump id
            blocks++;
            while (reader.Int() is var length and > 0)
            {
                lengths.Add(length);
                for (var i = 0; i < length; i++)
                {
                    reader.Byte();
                }
            }
        }

        return (lengths, blocks);
    }

    /// <summary>A stream that hands out its bytes in pieces of random size.</summary>
    private sealed class Pieces(byte[] bytes, Random random) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, random.Next(1, 300_000))], cancellationToken);
    }
}
