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
}
