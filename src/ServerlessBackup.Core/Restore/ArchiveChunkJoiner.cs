using ServerlessBackup.Streams;

namespace ServerlessBackup.Restore;

/// <summary>
/// Reads a pg_dump custom-format archive with its table data in large chunks. pg_dump, dumping
/// uncompressed (sbk compresses it itself), writes every row as a chunk of its own: millions of
/// them per GiB, and pg_restore pays a length read, a buffered read and a libpq call for each
/// (about 2 CPU seconds per GiB, on the cores the server's COPY needs). A chunk is only a piece of
/// the block's byte stream (pg_restore hands each to the server as it comes, and compressed
/// archives split rows anywhere), so the rows of each table's block are passed on in chunks of
/// <see cref="ChunkBytes"/>: the same rows, in the same order, 5 bytes per row smaller.
/// Everything else passes as it came: the header and table of contents, large objects and all
/// after them, a compressed archive, one whose table of contents already says where each block is
/// (those positions would move), and any archive <see cref="ArchiveOffsets.Reader"/> does not
/// know or whose data section surprises it, from the surprise on.
/// </summary>
internal sealed class ArchiveChunkJoiner : ReadOnlyStream
{
    /// <summary>The size of each joined chunk.</summary>
    internal const int ChunkBytes = 256 << 10;

    private readonly Stream inner;
    private readonly byte[] input = new byte[1 << 20];
    private byte[] output = new byte[2 << 20];
    private int outputStart;
    private int outputEnd;
    private readonly byte[] chunk = new byte[ChunkBytes];
    private int chunkLength;
    private ArchiveHead? head = new();
    private int intSize;
    private State state = State.Head;
    private readonly ArchiveInt pending = new();
    private long remaining;
    private bool ended;

    public ArchiveChunkJoiner(Stream inner) => this.inner = inner;

    private enum State
    {
        Head,
        BlockType,
        BlockId,
        ChunkLength,
        ChunkData,
        PassThrough,
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (outputStart == outputEnd)
        {
            if (ended)
            {
                return 0;
            }

            outputStart = outputEnd = 0;
            var n = await inner.ReadAsync(input, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                End();
            }
            else
            {
                Push(input.AsSpan(0, n));
            }
        }

        var count = Math.Min(buffer.Length, outputEnd - outputStart);
        output.AsSpan(outputStart, count).CopyTo(buffer.Span);
        outputStart += count;
        return count;
    }

    /// <summary>The archive ended: whatever is held back goes out as it is (an archive cut short stays cut short).</summary>
    private void End()
    {
        ended = true;
        if (head is not null)
        {
            Emit(head.Bytes);
            head = null;
        }

        FlushChunk();
        Emit(pending.Raw);
        pending.Clear();
    }

    private void Push(ReadOnlySpan<byte> data)
    {
        if (state == State.PassThrough)
        {
            Emit(data);
            return;
        }

        if (head is not null)
        {
            var outcome = head.Push(data);
            if (outcome == ArchiveHead.Outcome.More)
            {
                return;
            }

            // Table data is joined in an archive pg_dump did not compress and whose blocks have no recorded places yet.
            var all = head.Bytes;
            var tocEnd = outcome == ArchiveHead.Outcome.Read ? (int)head.TocEnd : all.Length;
            intSize = head.IntSize;
            state = outcome == ArchiveHead.Outcome.Read && !head.Compressed && head.Toc.All(e => e.Flag != ArchiveOffsets.OffsetSet) ? State.BlockType : State.PassThrough;
            head = null;
            Emit(all[..tocEnd]);
            Walk(all[tocEnd..]);
            return;
        }

        Walk(data);
    }

    private void Walk(ReadOnlySpan<byte> data)
    {
        var i = 0;
        while (i < data.Length)
        {
            switch (state)
            {
                case State.PassThrough:
                    Emit(data[i..]);
                    return;
                case State.ChunkData:
                    var take = (int)Math.Min(remaining, Math.Min(data.Length - i, ChunkBytes - chunkLength));
                    data.Slice(i, take).CopyTo(chunk.AsSpan(chunkLength));
                    chunkLength += take;
                    i += take;
                    remaining -= take;
                    if (chunkLength == ChunkBytes)
                    {
                        FlushChunk();
                    }

                    if (remaining == 0)
                    {
                        state = State.ChunkLength;
                    }

                    break;
                case State.BlockType:
                    // Table data is joined; large objects (and everything after them) pass as they came.
                    state = data[i] == ArchiveOffsets.BlockData ? State.BlockId : State.PassThrough;
                    Emit(data.Slice(i++, 1));
                    break;
                default:
                    // An integer; it may straddle two reads.
                    if (pending.Take(data[i++], intSize))
                    {
                        Integer();
                    }

                    break;
            }
        }
    }

    private void Integer()
    {
        var value = pending.Magnitude;
        if (state == State.BlockId)
        {
            Emit(pending.Raw);
            state = State.ChunkLength;
        }
        else if (value == 0 || pending.Negative || value > int.MaxValue)
        {
            // The block's end (or a length pg_dump never writes, after which nothing is joined).
            FlushChunk();
            Emit(pending.Raw);
            state = value == 0 && !pending.Negative ? State.BlockType : State.PassThrough;
        }
        else
        {
            remaining = value;
            state = State.ChunkData;
        }

        pending.Clear();
    }

    private void FlushChunk()
    {
        if (chunkLength == 0)
        {
            return;
        }

        Span<byte> length = stackalloc byte[9];
        Emit(length[..ArchiveInt.Write(chunkLength, intSize, length)]);
        Emit(chunk.AsSpan(0, chunkLength));
        chunkLength = 0;
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (outputEnd + bytes.Length > output.Length)
        {
            Array.Resize(ref output, Math.Max(output.Length * 2, outputEnd + bytes.Length));
        }

        bytes.CopyTo(output.AsSpan(outputEnd));
        outputEnd += bytes.Length;
    }
}
