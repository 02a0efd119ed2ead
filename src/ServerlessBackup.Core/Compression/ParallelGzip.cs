using System.Buffers;
using System.IO.Compression;
using System.Threading.Channels;

namespace ServerlessBackup.Compression;

/// <summary>
/// Compresses a stream as a sequence of independent gzip members, one per block, on several
/// cores at once, writing them in order. Any gzip reader (and <see cref="GZipStream"/>) reads the
/// concatenation as one stream. Memory is bounded: at most <c>maxInFlight</c> blocks at a time.
/// </summary>
internal static class ParallelGzip
{
    public const int DefaultBlockSize = 1024 * 1024;

    /// <summary>Reads <paramref name="source"/> to its end and writes its compressed form to <paramref name="destination"/>.</summary>
    /// <returns>The number of bytes read from <paramref name="source"/>.</returns>
    public static async Task<long> CompressAsync(Stream source, Stream destination, int level, int maxInFlight,
        CancellationToken cancellationToken, int blockSize = DefaultBlockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, 9);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<Task<Block>>(new BoundedChannelOptions(maxInFlight) { SingleReader = true, SingleWriter = true });
        long total = 0;

        var producer = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var input = ArrayPool<byte>.Shared.Rent(blockSize);
                    var n = await source.ReadAtLeastAsync(input.AsMemory(0, blockSize), blockSize, throwOnEndOfStream: false, cts.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        ArrayPool<byte>.Shared.Return(input);
                        break;
                    }

                    total += n;
                    var work = Task.Run(() => Compress(input, n, level), cts.Token);
                    await channel.Writer.WriteAsync(work, cts.Token).ConfigureAwait(false);
                    if (n < blockSize)
                    {
                        break;
                    }
                }

                channel.Writer.Complete();
            }
            catch (Exception ex)
            {
                channel.Writer.Complete(ex);
            }
        }, cts.Token);

        try
        {
            await foreach (var work in channel.Reader.ReadAllAsync(cts.Token).ConfigureAwait(false))
            {
                var block = await work.ConfigureAwait(false);
                try
                {
                    await destination.WriteAsync(block.Buffer.AsMemory(0, block.Length), cts.Token).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(block.Buffer);
                }
            }
        }
        catch
        {
            // Stop the reader; blocks still in flight are left to the GC.
            await cts.CancelAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            try
            {
                await producer.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The producer was stopped because the consumer failed; that failure is the one to report.
            }
        }

        return total;
    }

    private static Block Compress(byte[] input, int length, int level)
    {
        try
        {
            // Deflate's worst case adds ~5 bytes per 16 KiB stored block; gzip adds an 18-byte frame.
            var capacity = length + (length >> 8) + 1024;
            var output = ArrayPool<byte>.Shared.Rent(capacity);
            using var sink = new MemoryStream(output, 0, output.Length, writable: true);
            using (var gzip = new GZipStream(sink, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true))
            {
                gzip.Write(input, 0, length);
            }

            return new Block(output, (int)sink.Position);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
        }
    }

    private readonly record struct Block(byte[] Buffer, int Length);
}
