using System.Buffers;
using System.Buffers.Binary;
using ZstdNet;

namespace ServerlessBackup.Compression;

/// <summary>
/// Encoding 2: each block as an independent zstd frame (its content size and checksum in it), preceded
/// by a 12-byte zstd skippable frame that holds the compressed frame's length. Any zstd reader
/// (<c>zstd -d</c>) reads the whole as one stream and skips the index frames; sbk reads the
/// lengths to decompress frames on every core at once. Frames are made and read by the reference
/// implementation, libzstd, through ZstdNet (which ships it for Linux and Windows, x64 and arm64):
/// twice the speed of a managed port, on the CPU a restore shares with the database server.
/// </summary>
internal sealed class ZstdFrames : IBlockCodec, IDisposable
{
    /// <summary>The skippable frame magic sbk uses for its index frames (0x184D2A50-5F are skippable).</summary>
    public const uint IndexMagic = 0x184D2A5B;

    /// <summary>An index frame: magic, user data length (4), the following frame's compressed length.</summary>
    public const int IndexLength = 12;

    /// <summary>The largest block a frame may hold when read back (a bound on what a reader allocates).</summary>
    public const int MaxBlockLength = 16 * 1024 * 1024;

    [ThreadStatic]
    private static Decompressor? decompressor;

    // One compression context per block in flight at most (not one per pool thread): each holds a few MiB of tables.
    private readonly System.Collections.Concurrent.ConcurrentBag<Compressor> idle = [];
    private readonly List<Compressor> all = [];

    // Each frame carries its content checksum: a frame damaged after it authenticated (a bug) fails loudly, also in 'zstd -d'.
    private readonly CompressionOptions options;

    public ZstdFrames(int level) =>
        options = new CompressionOptions(null, new Dictionary<ZSTD_cParameter, int> { [ZSTD_cParameter.ZSTD_c_checksumFlag] = 1 }, level);

    /// <inheritdoc />
    public int MaxCompressedLength(int length) => IndexLength + Compressor.GetCompressBound(length);

    /// <inheritdoc />
    public int Compress(ReadOnlySpan<byte> input, byte[] output)
    {
        if (!idle.TryTake(out var compressor))
        {
            compressor = new Compressor(options);
            lock (all)
            {
                all.Add(compressor);
            }
        }

        int frame;
        try
        {
            frame = compressor.Wrap(input, output.AsSpan(IndexLength));
        }
        finally
        {
            idle.Add(compressor);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(output, IndexMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(4), 4);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(8), (uint)frame);
        return IndexLength + frame;
    }

    public void Dispose()
    {
        foreach (var compressor in all)
        {
            compressor.Dispose();
        }

        options.Dispose();
    }

    /// <summary>Decompresses one frame of at most <see cref="MaxBlockLength"/> bytes into a pooled buffer; returns it and its length.</summary>
    /// <exception cref="InvalidDataException">Not a frame sbk wrote.</exception>
    internal static (byte[] Buffer, int Length) Decompress(ReadOnlySpan<byte> frame, ArrayPool<byte> pool)
    {
        var size = Decompressor.GetDecompressedSize(frame);
        if (size > MaxBlockLength)
        {
            throw new InvalidDataException($"A zstd frame declares {size} bytes, more than a block holds.");
        }

        var buffer = pool.Rent(Math.Max(1, (int)size));
        try
        {
            var written = (decompressor ??= new Decompressor()).Unwrap(frame, buffer);
            if ((ulong)written != size)
            {
                throw new InvalidDataException("A zstd frame holds fewer bytes than its header declares.");
            }

            return (buffer, written);
        }
        catch (ZstdException ex)
        {
            pool.Return(buffer);
            throw new InvalidDataException("A zstd frame does not decompress: " + ex.Message, ex);
        }
        catch
        {
            pool.Return(buffer);
            throw;
        }
    }
}
