using System.Diagnostics;
using ServerlessBackup.Dump;

namespace ServerlessBackup.Tests;

/// <summary>pg_dump's output read in large pieces: every byte in order, and a stalled writer never holds up a cancellation.</summary>
public sealed class PipeReaderTests
{
    private static Process Start(string script) =>
        Process.Start(new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true })!;

    [Fact]
    public async Task A_writer_of_small_pieces_is_read_whole_and_in_order_in_far_fewer_reads()
    {
        // 20,000 writes of 6 bytes, as pg_dump's 4 KiB writes are small next to a 1 MiB read.
        using var writer = Start("for i in $(seq 1 20000); do printf '%05d\\n' $i; done");
        var stream = PipeReader.Over(writer.StandardOutput.BaseStream);
        Assert.IsType<PipeReader>(stream); // the pipe was widened: this is Linux
        using var all = new MemoryStream();
        var buffer = new byte[1 << 20];
        var reads = 0;
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            all.Write(buffer, 0, n);
            reads++;
        }

        await writer.WaitForExitAsync();
        var expected = string.Concat(Enumerable.Range(1, 20000).Select(i => $"{i:00000}\n"));
        Assert.Equal(expected, System.Text.Encoding.ASCII.GetString(all.ToArray()));
        Assert.True(reads < 2000, $"{reads} reads for 20,000 writes");
    }

    [Fact]
    public async Task A_cancelled_read_returns_at_once_though_the_writer_is_silent()
    {
        using var writer = Start("printf start; exec sleep 30");
        var stream = PipeReader.Over(writer.StandardOutput.BaseStream);
        var buffer = new byte[1 << 20];
        var first = await stream.ReadAsync(buffer);
        Assert.Equal("start", System.Text.Encoding.ASCII.GetString(buffer, 0, first));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            var n = await stream.ReadAsync(buffer, cancel.Token);
            Assert.Fail($"read {n} bytes from a silent writer");
        });

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the read took {clock.Elapsed} to give up");
        writer.Kill();
        await writer.WaitForExitAsync();
        await stream.DisposeAsync();
    }
}
