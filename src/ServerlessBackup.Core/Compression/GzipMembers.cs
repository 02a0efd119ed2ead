using System.IO.Compression;

namespace ServerlessBackup.Compression;

/// <summary>
/// Each block as a gzip member (encoding 1, the default before zstd): any gzip reader, and
/// <see cref="GZipStream"/>, reads the concatenation as one stream.
/// </summary>
internal sealed class GzipMembers(int level) : IBlockCodec
{
    /// <inheritdoc />
    public int MaxCompressedLength(int length) => length + (length >> 8) + 1024; // deflate's stored blocks add ~5 bytes per 16 KiB; gzip an 18-byte frame

    /// <inheritdoc />
    public int Compress(ReadOnlySpan<byte> input, byte[] output)
    {
        using var sink = new MemoryStream(output, 0, output.Length, writable: true);
        using (var gzip = new GZipStream(sink, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true))
        {
            gzip.Write(input);
        }

        return (int)sink.Position;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
