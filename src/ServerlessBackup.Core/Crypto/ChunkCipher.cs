using System.Buffers.Binary;
using System.Security.Cryptography;

namespace ServerlessBackup.Crypto;

/// <summary>
/// AES-256-GCM over one object's chunks. Nonce = 11-byte big-endian chunk index followed by a
/// flag byte (1 on the final chunk, 0 otherwise); associated data = SHA-256 of the header.
/// </summary>
internal sealed class ChunkCipher : IDisposable
{
    public const int TagLength = 16;
    private const long MaxChunks = 1L << 62;
    private readonly AesGcm aes;
    private readonly byte[] associatedData;

    public ChunkCipher(ReadOnlySpan<byte> objectKey, byte[] headerHash)
    {
        aes = new AesGcm(objectKey, TagLength);
        associatedData = headerHash;
    }

    /// <summary>Encrypts <paramref name="plain"/> into <paramref name="output"/> (ciphertext then tag; length plain + 16).</summary>
    public void Encrypt(long index, bool final, ReadOnlySpan<byte> plain, Span<byte> output)
    {
        Span<byte> nonce = stackalloc byte[12];
        MakeNonce(nonce, index, final);
        aes.Encrypt(nonce, plain, output[..plain.Length], output.Slice(plain.Length, TagLength), associatedData);
    }

    /// <summary>Decrypts one stored chunk; false if it does not authenticate as chunk <paramref name="index"/>.</summary>
    public bool TryDecrypt(long index, bool final, ReadOnlySpan<byte> stored, Span<byte> plain)
    {
        Span<byte> nonce = stackalloc byte[12];
        MakeNonce(nonce, index, final);
        var length = stored.Length - TagLength;
        try
        {
            aes.Decrypt(nonce, stored[..length], stored[length..], plain[..length], associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            // Nothing of a failed chunk may be used: wipe what the cipher wrote.
            plain[..length].Clear();
            return false;
        }
    }

    private static void MakeNonce(Span<byte> nonce, long index, bool final)
    {
        if ((ulong)index >= MaxChunks)
        {
            throw new InvalidOperationException("An object cannot have this many chunks.");
        }

        nonce.Clear();
        BinaryPrimitives.WriteInt64BigEndian(nonce.Slice(3, 8), index);
        nonce[11] = final ? (byte)1 : (byte)0;
    }

    public void Dispose() => aes.Dispose();
}
