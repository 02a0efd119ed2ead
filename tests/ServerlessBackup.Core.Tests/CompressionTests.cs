using System.Diagnostics;
using System.Security.Cryptography;
using ServerlessBackup.Compression;

namespace ServerlessBackup.Tests;

/// <summary>The zstd payload: independent frames behind skippable index frames, written and read on several cores, readable by the zstd tool itself.</summary>
public sealed class CompressionTests
{
    private static byte[] Sample(int length)
    {
        // Half random, half repetitive: like a dump, compressible but not trivially.
        var data = new byte[length];
        var random = new Random(42);
        for (var i = 0; i < length; i += 4096)
        {
            var span = data.AsSpan(i, Math.Min(4096, length - i));
            if (random.Next(2) == 0)
            {
                random.NextBytes(span);
            }
            else
            {
                span.Fill((byte)('a' + (i / 4096 % 26)));
            }
        }

        return data;
    }

    private static async Task<byte[]> CompressAsync(byte[] data, int blockSize = 64 * 1024)
    {
        using var codec = new ZstdFrames(1);
        using var output = new MemoryStream();
        var read = await ParallelBlocks.CompressAsync(new MemoryStream(data), output, codec, 4, CancellationToken.None, blockSize);
        Assert.Equal(data.Length, read);
        return output.ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(64 * 1024)]
    [InlineData(64 * 1024 * 7 + 13)]
    public async Task Frames_round_trip_in_order_whatever_the_length(int length)
    {
        var data = Sample(length);
        var compressed = await CompressAsync(data);

        await using var reader = new ZstdFramesReader(new MemoryStream(compressed), 3);
        using var back = new MemoryStream();
        await reader.CopyToAsync(back, 1000);

        Assert.Equal(SHA256.HashData(data), SHA256.HashData(back.ToArray()));
        if (length > 4096)
        {
            Assert.True(compressed.Length < length * 3 / 4, "the repetitive half compresses");
        }
    }

    [Theory]
    [InlineData("linux-x64")]
    [InlineData("linux-arm64")]
    public void The_build_carries_libzstd_for_every_Linux_platform_sbk_and_its_image_run_on(string rid)
    {
        // ZstdNet ships the reference library; a publish (the Functions image, sbk) takes it from here.
        var library = Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native", "libzstd.so");
        Assert.True(File.Exists(library), $"{library} is missing: frames could not be made or read on {rid}.");
    }

    [Fact]
    public async Task The_zstd_tool_reads_the_payload_as_one_stream()
    {
        var data = Sample(300 * 1024);
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(path, await CompressAsync(data));
            var start = new ProcessStartInfo("zstd", ["-d", "-c", path]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var zstd = Process.Start(start)!;
            using var output = new MemoryStream();
            await zstd.StandardOutput.BaseStream.CopyToAsync(output);
            await zstd.WaitForExitAsync();
            Assert.True(zstd.ExitCode == 0, await zstd.StandardError.ReadToEndAsync());
            Assert.Equal(data, output.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("no index")]
    [InlineData("flipped")]
    public async Task A_damaged_payload_is_an_InvalidDataException_never_wrong_bytes(string damage)
    {
        var compressed = await CompressAsync(Sample(200 * 1024));
        compressed = damage switch
        {
            "truncated" => compressed[..^10],
            "no index" => compressed[ZstdFrames.IndexLength..],
            _ => Flip(compressed),
        };

        await using var reader = new ZstdFramesReader(new MemoryStream(compressed), 2);
        await Assert.ThrowsAsync<InvalidDataException>(() => reader.CopyToAsync(Stream.Null));

        static byte[] Flip(byte[] bytes)
        {
            bytes[ZstdFrames.IndexLength + 20] ^= 0xFF;
            return bytes;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_compression_that_fails_midway_returns_only_once_no_block_is_still_being_compressed(bool ctrlC)
    {
        // The caller disposes the codec once CompressAsync returns; a zstd context freed under a
        // running compression crashed the process (a segfault in libzstd), so none may still run.
        var data = RandomNumberGenerator.GetBytes(64 * 1024);
        data.AsSpan(0, 1024).Clear(); // the first block, all zeros, is the one compressed at once
        using var codec = new SlowCodec();
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), io); // blocks and the failing write each get a thread at once
        int runningAtReturn;
        using var cancel = new CancellationTokenSource();
        try
        {
            // The store failing once its retries are spent, or Ctrl+C while the first block is written.
            var compressing = ParallelBlocks.CompressAsync(new MemoryStream(data), new FailingStream(codec, ctrlC ? cancel : null), codec, 4, cancel.Token, blockSize: 1024);
            var ex = await Assert.ThrowsAnyAsync<Exception>(() => compressing);
            Assert.True(ctrlC ? ex is OperationCanceledException : ex is IOException, ex.ToString());
            runningAtReturn = codec.Running;
        }
        finally
        {
            codec.Release();
            ThreadPool.SetMinThreads(workers, io);
        }

        Assert.True(codec.Started >= 3, $"only {codec.Started} block(s) started");
        Assert.Equal(0, runningAtReturn);
    }

    /// <summary>A codec whose compressions after the first wait (up to 2 s) until released, counting those under way.</summary>
    private sealed class SlowCodec : IBlockCodec
    {
        private readonly ManualResetEventSlim gate = new();
        private int running;
        private int started;

        public void Release() => gate.Set();

        public int Running => Volatile.Read(ref running);

        public int Started => Volatile.Read(ref started);

        public int MaxCompressedLength(int length) => length;

        public int Compress(ReadOnlySpan<byte> input, byte[] output)
        {
            Interlocked.Increment(ref started);
            Interlocked.Increment(ref running);
            try
            {
                // The first block (zeros) at once, so that its write (which fails) happens while the next ones wait.
                if (input.ContainsAnyExcept((byte)0))
                {
                    gate.Wait(TimeSpan.FromSeconds(2));
                }

                input.CopyTo(output);
                return input.Length;
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }
        }

        public void Dispose() => gate.Dispose();
    }

    /// <summary>
    /// A destination that fails at its first write, as a store does once its retries are spent (or
    /// is stopped there by Ctrl+C), once two more blocks have started compressing (so that they are
    /// under way when it fails).
    /// </summary>
    private sealed class FailingStream(SlowCodec codec, CancellationTokenSource? ctrlC) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("The store failed (test).");

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            for (var i = 0; i < 500 && codec.Started < 3; i++)
            {
                await Task.Delay(10, CancellationToken.None);
            }

            Assert.True(codec.Started >= 3, "the other blocks never started");
            if (ctrlC is not null)
            {
                await ctrlC.CancelAsync();
                cancellationToken.ThrowIfCancellationRequested();
            }

            throw new IOException("The store failed (test).");
        }
    }
}
