namespace ServerlessBackup.Restore;

/// <summary>
/// One of pg_dump's archive integers arriving byte by byte, possibly across reads: a sign byte,
/// then <c>intSize</c> little-endian bytes of magnitude. What the scanner and the chunk joiner
/// both read between data.
/// </summary>
internal sealed class ArchiveInt
{
    private readonly byte[] raw = new byte[9];
    private int count;

    /// <summary>The bytes taken so far, as they came.</summary>
    public ReadOnlySpan<byte> Raw => raw.AsSpan(0, count);

    /// <summary>Whether the sign byte says negative.</summary>
    public bool Negative => raw[0] != 0;

    /// <summary>The magnitude (valid once whole).</summary>
    public long Magnitude { get; private set; }

    /// <summary>Takes one byte of an archive with <paramref name="intSize"/>-byte integers; true once the integer is whole (then <see cref="Clear"/> before the next).</summary>
    public bool Take(byte b, int intSize)
    {
        raw[count++] = b;
        if (count < 1 + intSize)
        {
            return false;
        }

        long value = 0;
        for (var i = 0; i < intSize; i++)
        {
            value |= (long)raw[1 + i] << (8 * i);
        }

        Magnitude = value;
        return true;
    }

    /// <summary>Forgets the bytes taken.</summary>
    public void Clear() => count = 0;

    /// <summary>Writes the non-negative <paramref name="value"/> as an archive integer of <paramref name="intSize"/> bytes into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Write(long value, int intSize, Span<byte> destination)
    {
        destination[0] = 0;
        for (var i = 0; i < intSize; i++)
        {
            destination[1 + i] = (byte)(value >> (8 * i));
        }

        return 1 + intSize;
    }
}
