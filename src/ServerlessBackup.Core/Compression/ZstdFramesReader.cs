using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using ServerlessBackup.Streams;

namespace ServerlessBackup.Compression;

/// <summary>
/// Reads a <see cref="ZstdFrames"/> payload as the plain bytes it holds, decompressing up to
/// <c>maxInFlight</c> frames at once on the thread pool while handing them out in order, so a
/// restore decompresses on every core and pg_restore, not sbk, sets the pace. Memory is bounded by
/// <c>maxInFlight</c> blocks.
/// </summary>
internal sealed class ZstdFramesReader : ReadOnlyStream
{
    private readonly Stream source;
    private readonly Channel<Task<(byte[] Buffer, int Length)>> frames;
    private readonly CancellationTokenSource stop = new();
    private readonly Task producer;

    // This reader's frames and blocks only, bounded; a block larger than the pool's largest (an unusual frame) is simply allocated.
    private readonly ArrayPool<byte> pool;
    private ExceptionDispatchInfo? failure;
    private byte[]? current;
    private int offset;
    private int length;
    private bool ended;

    public ZstdFramesReader(Stream source, int maxInFlight)
    {
        this.source = source;
        pool = ArrayPool<byte>.Create(2 * ParallelBlocks.DefaultBlockSize, 2 * Math.Max(1, maxInFlight) + 2);
        frames = Channel.CreateBounded<Task<(byte[], int)>>(new BoundedChannelOptions(Math.Max(1, maxInFlight)) { SingleReader = true, SingleWriter = true });
        producer = Task.Run(ProduceAsync);
    }

    private async Task ProduceAsync()
    {
        var index = new byte[ZstdFrames.IndexLength];
        try
        {
            while (true)
            {
                var n = await source.ReadAtLeastAsync(index, index.Length, throwOnEndOfStream: false, stop.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                if (n < index.Length || BinaryPrimitives.ReadUInt32LittleEndian(index) != ZstdFrames.IndexMagic || BinaryPrimitives.ReadUInt32LittleEndian(index.AsSpan(4)) != 4)
                {
                    throw new InvalidDataException("The payload is not a sequence of sbk's indexed zstd frames.");
                }

                var size = BinaryPrimitives.ReadUInt32LittleEndian(index.AsSpan(8));
                if (size is 0 or > ZstdFrames.MaxBlockLength)
                {
                    throw new InvalidDataException($"A zstd frame is {size} bytes long, more than a block may be.");
                }

                var frame = pool.Rent((int)size);
                await source.ReadExactlyAsync(frame.AsMemory(0, (int)size), stop.Token).ConfigureAwait(false);
                var work = Task.Run(() =>
                {
                    try
                    {
                        return ZstdFrames.Decompress(frame.AsSpan(0, (int)size), pool);
                    }
                    finally
                    {
                        pool.Return(frame);
                    }
                });
                await frames.Writer.WriteAsync(work, stop.Token).ConfigureAwait(false);
            }
        }
        catch (EndOfStreamException ex)
        {
            failure = ExceptionDispatchInfo.Capture(new InvalidDataException("The payload ends inside a zstd frame.", ex));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            failure = ExceptionDispatchInfo.Capture(ex);
        }
        finally
        {
            frames.Writer.TryComplete();
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (current is null || offset == length)
        {
            if (current is not null)
            {
                pool.Return(current);
                current = null;
            }

            if (ended)
            {
                return 0;
            }

            if (!await frames.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                ended = true;
                failure?.Throw();
                return 0;
            }

            if (frames.Reader.TryRead(out var next))
            {
                (current, length) = await next.ConfigureAwait(false);
                offset = 0;
            }
        }

        var n = Math.Min(buffer.Length, length - offset);
        current.AsMemory(offset, n).CopyTo(buffer);
        offset += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            stop.Cancel();
            try
            {
                producer.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                // Stopped on purpose.
            }

            // Frames decompressed but never read go back to the pool once done.
            while (frames.Reader.TryRead(out var pending))
            {
                pending.ContinueWith(t => pool.Return(t.Result.Buffer), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            }

            if (current is not null)
            {
                pool.Return(current);
                current = null;
            }

            stop.Dispose();
            source.Dispose();
        }

        base.Dispose(disposing);
    }
}
