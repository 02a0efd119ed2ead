using System.Buffers;
using System.Threading.Channels;

namespace ServerlessBackup.Compression;

/// <summary>
/// Compresses a stream block by block on several cores at once, writing the compressed blocks in
/// order: each block becomes an independent unit (a gzip member, a zstd frame) that a sequential
/// reader of the format reads as one stream. Memory is bounded: at most <c>maxInFlight</c> blocks
/// (input and output, pooled) exist at a time, whatever the stream's length.
/// </summary>
internal static class ParallelBlocks
{
    public const int DefaultBlockSize = 1024 * 1024;

    /// <summary>Reads <paramref name="source"/> to its end and writes each block, compressed by <paramref name="codec"/>, to <paramref name="destination"/>.</summary>
    /// <returns>The number of bytes read from <paramref name="source"/>.</returns>
    public static async Task<long> CompressAsync(Stream source, Stream destination, IBlockCodec codec, int maxInFlight, CancellationToken cancellationToken, int blockSize = DefaultBlockSize)
    {
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Buffers of this stream only, bounded: the shared pool would keep one per thread that ever held one.
        var pool = ArrayPool<byte>.Create(Math.Max(blockSize, codec.MaxCompressedLength(blockSize)), 2 * maxInFlight + 2);
        var channel = Channel.CreateBounded<Task<Block>>(new BoundedChannelOptions(maxInFlight) { SingleReader = true, SingleWriter = true });
        long total = 0;

        // Every block being compressed, until it is done: on failure they are waited for, because the
        // caller disposes the codec next, and a zstd context freed under a running compression is a
        // use-after-free in native code (the process dies with a segfault, not an exception).
        var running = new List<Task<Block>>();

        var producer = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var input = pool.Rent(blockSize);
                    var n = await source.ReadAtLeastAsync(input.AsMemory(0, blockSize), blockSize, throwOnEndOfStream: false, cts.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        pool.Return(input);
                        break;
                    }

                    total += n;
                    var work = Task.Run(() => Compress(codec, pool, input, n), CancellationToken.None);
                    lock (running)
                    {
                        running.RemoveAll(t => t.IsCompleted);
                        running.Add(work);
                    }

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
                    pool.Return(block.Buffer);
                }
            }
        }
        catch
        {
            // Stop the reader, then let every block still being compressed finish (this stream's pool goes with it).
            await cts.CancelAsync().ConfigureAwait(false);
            try
            {
                await producer.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The producer was stopped because the consumer failed; that failure is the one to report.
            }

            Task<Block>[] left;
            lock (running)
            {
                left = [.. running];
            }

            foreach (var work in left)
            {
                try
                {
                    await work.ConfigureAwait(false);
                }
#pragma warning disable CA1031 // A block that failed too is not the failure to report.
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }

            throw;
        }

        await producer.ConfigureAwait(false);

        return total;
    }

    private static Block Compress(IBlockCodec codec, ArrayPool<byte> pool, byte[] input, int length)
    {
        try
        {
            var output = pool.Rent(codec.MaxCompressedLength(length));
            try
            {
                return new Block(output, codec.Compress(input.AsSpan(0, length), output));
            }
            catch
            {
                pool.Return(output);
                throw;
            }
        }
        finally
        {
            pool.Return(input);
        }
    }

    private readonly record struct Block(byte[] Buffer, int Length);
}

/// <summary>Compresses one block into one independent unit of a format (thread-safe; disposed after the stream).</summary>
internal interface IBlockCodec : IDisposable
{
    /// <summary>The most bytes <see cref="Compress"/> can write for <paramref name="length"/> input bytes.</summary>
    int MaxCompressedLength(int length);

    /// <summary>Compresses <paramref name="input"/> into <paramref name="output"/> (at least <see cref="MaxCompressedLength"/> long); returns the bytes written.</summary>
    int Compress(ReadOnlySpan<byte> input, byte[] output);
}
