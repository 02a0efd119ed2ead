namespace ServerlessBackup.Restore;

/// <summary>
/// What has landed of an archive so far: how many bytes are in the file, and where each data block
/// that is whole ends. Readers wait on it for more; the landing tells it of every write.
/// </summary>
internal sealed class LandingWatch
{
    private readonly Dictionary<int, long> ends = [];
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long landed;
    private bool done;

    /// <summary>Bytes now in the file.</summary>
    public void Landed(long bytes) => Change(() => landed = bytes);

    /// <summary>The block of <paramref name="dumpId"/> is whole and ends at <paramref name="end"/>.</summary>
    public void Ended(int dumpId, long end) => Change(() => ends[dumpId] = end);

    /// <summary>Whether the block of <paramref name="dumpId"/> is whole in the file.</summary>
    public bool IsWhole(int dumpId)
    {
        lock (ends)
        {
            return ends.ContainsKey(dumpId);
        }
    }

    /// <summary>How large the block of <paramref name="dumpId"/>, which starts at <paramref name="start"/>, is known to be: all of it when whole, what has landed of it otherwise.</summary>
    public long SizeSoFar(int dumpId, long start)
    {
        lock (ends)
        {
            return (ends.TryGetValue(dumpId, out var end) ? end : Math.Max(landed, start)) - start;
        }
    }

    /// <summary>Everything has landed: a block whose end was not found will not be whole.</summary>
    public void Done() => Change(() => done = true);

    /// <summary>How far the block of <paramref name="dumpId"/> may be read now, whether that is its end, and a task that completes at the next change.</summary>
    public (long Limit, bool Whole, Task Changed) Look(int dumpId)
    {
        lock (ends)
        {
            if (ends.TryGetValue(dumpId, out var end))
            {
                return (end, true, changed.Task);
            }

            return done
                ? throw new InvalidDataException($"The end of the data block of entry {dumpId} was not found in the landed archive.")
                : (landed, false, changed.Task);
        }
    }

    private void Change(Action change)
    {
        TaskCompletionSource done;
        lock (ends)
        {
            change();
            done = changed;
            changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        done.TrySetResult();
    }
}
