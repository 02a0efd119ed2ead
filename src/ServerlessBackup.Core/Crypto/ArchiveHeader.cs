using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Crypto;

/// <summary>
/// The authenticated header at the start of every encrypted object. Layout (big-endian) in
/// docs/format.md. Its SHA-256 is the associated data of every chunk, so changing any header
/// byte makes the first chunk fail to authenticate.
/// </summary>
public sealed class ArchiveHeader
{
    /// <summary>The 8 magic bytes: "SBKARC\r\n".</summary>
    public static ReadOnlySpan<byte> Magic => "SBKARC\r\n"u8;

    /// <summary>The only format version this code writes and reads.</summary>
    public const ushort FormatVersion = 1;

    /// <summary>Smallest and largest chunk sizes accepted.</summary>
    public const int MinChunkSize = 4096, MaxChunkSize = 16 * 1024 * 1024;

    private const int MaxHeaderLength = 4096;
    private const int FixedPrefix = 8 + 2 + 4; // magic, version, header length

    internal ArchiveHeader(KeyEnvelope envelope, string role, int chunkSize, PayloadEncoding encoding, byte[] bytes)
    {
        Envelope = envelope;
        Role = role;
        ChunkSize = chunkSize;
        Encoding = encoding;
        Bytes = bytes;
        Hash = SHA256.HashData(bytes);
    }

    /// <summary>The wrapped data key and its identifiers.</summary>
    public KeyEnvelope Envelope { get; }

    /// <summary>The object's role, bound into its key ("archive").</summary>
    public string Role { get; }

    /// <summary>Plaintext bytes per chunk (the final chunk may be shorter).</summary>
    public int ChunkSize { get; }

    /// <summary>How the plaintext is encoded.</summary>
    public PayloadEncoding Encoding { get; }

    /// <summary>The exact header bytes as stored.</summary>
    public byte[] Bytes { get; }

    /// <summary>SHA-256 of <see cref="Bytes"/>: the associated data of every chunk.</summary>
    public byte[] Hash { get; }

    internal static ArchiveHeader Create(KeyEnvelope envelope, string role, int chunkSize, PayloadEncoding encoding)
    {
        if (chunkSize is < MinChunkSize or > MaxChunkSize)
        {
            throw new ArgumentOutOfRangeException(nameof(chunkSize), chunkSize, $"Chunk size must be between {MinChunkSize} and {MaxChunkSize} bytes.");
        }

        var roleBytes = System.Text.Encoding.ASCII.GetBytes(role);
        var id = System.Text.Encoding.UTF8.GetBytes(envelope.BackupId);
        var name = System.Text.Encoding.UTF8.GetBytes(envelope.KekName);
        var version = System.Text.Encoding.UTF8.GetBytes(envelope.KekVersion);
        var length = FixedPrefix + 4 + 1 + 1 + roleBytes.Length + 2 + id.Length + 2 + name.Length + 2 + version.Length
                     + KeyEnvelope.NonceLength + KeyEnvelope.WrappedLength + DataKey.SaltLength + 32;
        if (length > MaxHeaderLength || roleBytes.Length > 255)
        {
            throw new ArgumentException("The backup id, role or master key name is too long for an archive header.", nameof(envelope));
        }

        var bytes = new byte[length];
        var w = new SpanWriter(bytes);
        w.Write(Magic);
        w.WriteUInt16(FormatVersion);
        w.WriteUInt32((uint)length);
        w.WriteUInt32((uint)chunkSize);
        w.WriteByte((byte)encoding);
        w.WriteByte((byte)roleBytes.Length);
        w.Write(roleBytes);
        w.WriteShortBytes(id);
        w.WriteShortBytes(name);
        w.WriteShortBytes(version);
        w.Write(envelope.WrapNonce);
        w.Write(envelope.WrappedKey);
        w.Write(envelope.Salt);
        w.Write(envelope.Commitment);
        return new ArchiveHeader(envelope, role, chunkSize, encoding, bytes);
    }

    /// <summary>Reads and parses the header at the start of <paramref name="source"/>.</summary>
    /// <exception cref="IntegrityException">The bytes are not a well-formed header of this format version.</exception>
    public static async Task<ArchiveHeader> ReadAsync(Stream source, string what, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var prefix = new byte[FixedPrefix];
        var read = await source.ReadAtLeastAsync(prefix, prefix.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read < FixedPrefix || !prefix.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new IntegrityException($"{what} does not start with a ServerlessBackup header: it is not an sbk archive, or its first bytes were altered.");
        }

        var version = BinaryPrimitives.ReadUInt16BigEndian(prefix.AsSpan(8));
        if (version != FormatVersion)
        {
            throw new IntegrityException($"{what} is in archive format version {version}; this sbk reads version {FormatVersion}. Use the sbk release that wrote it, or check that the header was not altered.");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(prefix.AsSpan(10));
        if (length is < FixedPrefix + 16 or > MaxHeaderLength)
        {
            throw new IntegrityException($"{what} has an impossible header length ({length}): the header was altered.");
        }

        var bytes = new byte[length];
        prefix.CopyTo(bytes, 0);
        read = await source.ReadAtLeastAsync(bytes.AsMemory(FixedPrefix), (int)length - FixedPrefix, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read < length - FixedPrefix)
        {
            throw new IntegrityException($"{what} ends inside its header: it was truncated.");
        }

        try
        {
            var r = new SpanReader(bytes, FixedPrefix);
            var chunkSize = (int)r.ReadUInt32();
            var encoding = (PayloadEncoding)r.ReadByte();
            var role = System.Text.Encoding.ASCII.GetString(r.Read(r.ReadByte()));
            var id = System.Text.Encoding.UTF8.GetString(r.ReadShortBytes());
            var kekName = System.Text.Encoding.UTF8.GetString(r.ReadShortBytes());
            var kekVersion = System.Text.Encoding.UTF8.GetString(r.ReadShortBytes());
            var nonce = r.Read(KeyEnvelope.NonceLength).ToArray();
            var wrapped = r.Read(KeyEnvelope.WrappedLength).ToArray();
            var salt = r.Read(DataKey.SaltLength).ToArray();
            var commitment = r.Read(32).ToArray();
            if (r.Position != length || chunkSize is < MinChunkSize or > MaxChunkSize || !Enum.IsDefined(encoding))
            {
                throw new FormatException();
            }

            return new ArchiveHeader(new KeyEnvelope(id, kekName, kekVersion, nonce, wrapped, salt, commitment), role, chunkSize, encoding, bytes);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentOutOfRangeException or DecoderFallbackException)
        {
            throw new IntegrityException($"{what} has a malformed header: it was altered or truncated.", ex);
        }
    }

    private ref struct SpanWriter(Span<byte> span)
    {
        private readonly Span<byte> span = span;
        private int position;

        public void Write(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(span[position..]);
            position += bytes.Length;
        }

        public void WriteByte(byte value) => span[position++] = value;

        public void WriteUInt16(ushort value)
        {
            BinaryPrimitives.WriteUInt16BigEndian(span[position..], value);
            position += 2;
        }

        public void WriteUInt32(uint value)
        {
            BinaryPrimitives.WriteUInt32BigEndian(span[position..], value);
            position += 4;
        }

        public void WriteShortBytes(ReadOnlySpan<byte> bytes)
        {
            WriteUInt16(checked((ushort)bytes.Length));
            Write(bytes);
        }
    }

    private ref struct SpanReader(ReadOnlySpan<byte> span, int position)
    {
        private readonly ReadOnlySpan<byte> span = span;

        public int Position { get; private set; } = position;

        public ReadOnlySpan<byte> Read(int count)
        {
            if (count < 0 || Position + count > span.Length)
            {
                throw new FormatException();
            }

            var result = span.Slice(Position, count);
            Position += count;
            return result;
        }

        public byte ReadByte() => Read(1)[0];

        public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Read(4));

        public ReadOnlySpan<byte> ReadShortBytes() => Read(BinaryPrimitives.ReadUInt16BigEndian(Read(2)));
    }
}
