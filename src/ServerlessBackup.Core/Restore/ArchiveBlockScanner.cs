namespace ServerlessBackup.Restore;

/// <summary>
/// Follows a pg_dump custom-format archive as its bytes arrive, in order: first its header and
/// table of contents, then each data block (a table's rows, or large objects). It says when the
/// table of contents is whole and, for each block, where it starts once its last byte has
/// arrived, so that a restore can start on a table while the tables after it are still landing.
/// An archive it does not understand (another format or version, or a surprise in the data
/// section) is reported as such and followed no further; the bytes still land as they are.
/// </summary>
internal sealed class ArchiveBlockScanner
{
    private readonly Action<IReadOnlyList<ArchiveOffsets.TocEntry>, int, long> onToc;
    private readonly Action<int, long>? onBlockStart;
    private readonly Action<int, long, long> onBlock;
    private ArchiveHead? head = new();
    private int intSize;
    private long position;
    private State state = State.BlockType;
    private readonly ArchiveInt pending = new();
    private long skip;
    private long blockStart;
    private int blockId;
    private bool blobs;

    /// <param name="onToc">Called once with the table of contents, the archive's offset size and where the table of contents ends, when it is whole.</param>
    /// <param name="onBlock">Called with a block's dump id, where it starts and where it ends, when its last byte has arrived.</param>
    /// <param name="onBlockStart">Called with a block's dump id and where it starts, when its header has arrived.</param>
    public ArchiveBlockScanner(Action<IReadOnlyList<ArchiveOffsets.TocEntry>, int, long> onToc, Action<int, long, long> onBlock, Action<int, long>? onBlockStart = null)
    {
        this.onToc = onToc;
        this.onBlock = onBlock;
        this.onBlockStart = onBlockStart;
    }

    private enum State
    {
        BlockType,
        BlockId,
        ChunkLength,
        Skip,
        BlobOid,
        Stopped,
    }

    /// <summary>The archive is not one this follows (or it ended in a way it did not expect): no more blocks will be reported.</summary>
    public bool Lost { get; private set; }

    /// <summary>Takes the next bytes of the archive.</summary>
    public void Push(ReadOnlySpan<byte> data)
    {
        if (state == State.Stopped)
        {
            position += data.Length;
            return;
        }

        if (head is not null)
        {
            position += data.Length;
            switch (head.Push(data))
            {
                case ArchiveHead.Outcome.More:
                    return;
                case ArchiveHead.Outcome.Unknown:
                    Stop();
                    return;
            }

            intSize = head.IntSize;
            onToc(head.Toc, head.OffSize, head.TocEnd);
            var rest = head.Bytes[(int)head.TocEnd..].ToArray();
            var tocEnd = head.TocEnd;
            head = null;
            Scan(rest, tocEnd);
            return;
        }

        Scan(data, position);
        position += data.Length;
    }

    private void Stop()
    {
        Lost = true;
        state = State.Stopped;
        head = null;
    }

    /// <summary>Walks <paramref name="data"/>, which starts at <paramref name="at"/> in the archive.</summary>
    private void Scan(ReadOnlySpan<byte> data, long at)
    {
        var i = 0;
        while (i < data.Length && state != State.Stopped)
        {
            switch (state)
            {
                case State.Skip:
                    var take = (int)Math.Min(skip, data.Length - i);
                    i += take;
                    skip -= take;
                    if (skip == 0)
                    {
                        state = State.ChunkLength;
                    }

                    break;
                case State.BlockType:
                    blockStart = at + i;
                    var type = data[i++];
                    if (type is not (ArchiveOffsets.BlockData or ArchiveOffsets.BlockBlobs))
                    {
                        Stop();
                        return;
                    }

                    blobs = type == ArchiveOffsets.BlockBlobs;
                    state = State.BlockId;
                    break;
                default:
                    // An integer; it may straddle two pushes.
                    if (!pending.Take(data[i++], intSize))
                    {
                        break;
                    }

                    pending.Clear();
                    if (pending.Magnitude > int.MaxValue)
                    {
                        Stop();
                        return;
                    }

                    Integer(pending.Negative ? -pending.Magnitude : pending.Magnitude, at + i);
                    break;
            }
        }
    }

    /// <summary>An integer has been read; <paramref name="after"/> is where the byte after it is.</summary>
    private void Integer(long value, long after)
    {
        switch (state)
        {
            case State.BlockId:
                blockId = (int)value;
                onBlockStart?.Invoke(blockId, blockStart);
                state = blobs ? State.BlobOid : State.ChunkLength;
                break;
            case State.BlobOid:
                // Large objects: (oid, chunks, 0) repeated, then oid 0.
                if (value == 0)
                {
                    onBlock(blockId, blockStart, after);
                    state = State.BlockType;
                }
                else
                {
                    state = State.ChunkLength;
                }

                break;
            case State.ChunkLength:
                if (value != 0)
                {
                    skip = Math.Abs(value);
                    state = State.Skip;
                }
                else if (blobs)
                {
                    state = State.BlobOid;
                }
                else
                {
                    onBlock(blockId, blockStart, after);
                    state = State.BlockType;
                }

                break;
        }
    }
}
