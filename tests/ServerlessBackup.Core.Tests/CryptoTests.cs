using System.Security.Cryptography;
using ServerlessBackup.Crypto;
using ServerlessBackup.Errors;
using ServerlessBackup.Secrets;

namespace ServerlessBackup.Tests;

public sealed class CryptoTests
{
    private const int Chunk = 4096;
    private static readonly MasterKey Master = MasterKey.FromSecret(new SecretValue("kek", "v1", MasterKey.GenerateSecretValue()));

    private static byte[] Encrypt(byte[] plain, string backupId = "20260101T000000Z-aaaaaa", MasterKey? master = null)
    {
        using var key = BackupKey.Create(master ?? Master, backupId);
        using var output = new MemoryStream();
        using (var writer = key.CreateArchiveWriter(output, Chunk, PayloadEncoding.Plain))
        {
            writer.Write(plain);
            writer.CompleteAsync().GetAwaiter().GetResult();
            Assert.Equal(output.Length, writer.CiphertextLength);
            Assert.Equal(SHA256.HashData(output.ToArray()), writer.CiphertextSha256);
        }

        return output.ToArray();
    }

    private static async Task<byte[]> DecryptAsync(byte[] stored, MasterKey? master = null)
    {
        var source = new MemoryStream(stored);
        var header = await ArchiveHeader.ReadAsync(source, "the test archive");
        using var key = BackupKey.Open(header.Envelope, master ?? Master);
        await using var reader = key.CreateArchiveReader(source, header, "the test archive");
        using var plain = new MemoryStream();
        await reader.CopyToAsync(plain);
        return plain.ToArray();
    }

    private static int HeaderLength(byte[] stored) => System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(stored.AsSpan(10));

    private static byte[] Data(int length) => RandomNumberGenerator.GetBytes(length);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(Chunk - 1)]
    [InlineData(Chunk)]
    [InlineData(Chunk + 1)]
    [InlineData(3 * Chunk)]
    [InlineData(3 * Chunk + 17)]
    public async Task Any_length_round_trips(int length)
    {
        var plain = Data(length);
        Assert.Equal(plain, await DecryptAsync(Encrypt(plain)));
    }

    [Fact]
    public void Ciphertext_does_not_contain_the_plaintext_and_differs_between_backups_of_the_same_data()
    {
        var plain = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("SECRET-ROW-DATA ", 2000)));
        var a = Encrypt(plain);
        var b = Encrypt(plain);
        Assert.Equal(-1, a.AsSpan().IndexOf("SECRET-ROW-DATA"u8));
        Assert.NotEqual(a.AsSpan(HeaderLength(a)).ToArray(), b.AsSpan(HeaderLength(b)).ToArray());
    }

    public static TheoryData<string> Tampers => new()
    {
        "header-bit", "chunk-size-field", "wrapped-key-bit", "salt-bit", "commitment-bit", "chunk-body-bit", "tag-bit",
        "truncated-at-chunk-boundary", "final-chunk-removed", "bytes-appended", "chunks-swapped", "spliced-from-other-backup", "empty-after-header",
    };

    [Theory]
    [MemberData(nameof(Tampers))]
    public async Task Tampering_is_detected_as_an_integrity_error(string tamper)
    {
        var plain = Data(4 * Chunk + 100);
        var stored = Encrypt(plain);
        var h = HeaderLength(stored);
        var sealedChunk = Chunk + 16;
        byte[] Flip(int offset)
        {
            var copy = stored.ToArray();
            copy[offset] ^= 0x10;
            return copy;
        }

        // Offsets into the header: magic 8, version 2, length 4, chunk size 4, encoding 1, role len 1 + "archive" 7,
        // id 2+23, kek name 2+3, kek version 2+2, nonce 12, wrapped 48, salt 32, commitment 32.
        var wrapped = 8 + 2 + 4 + 4 + 1 + 1 + 7 + 2 + 23 + 2 + 3 + 2 + 2 + 12;
        byte[] tampered = tamper switch
        {
            "header-bit" => Flip(8 + 2 + 4 + 4 + 1 + 1 + 7 + 2 + 5), // inside the backup id
            "chunk-size-field" => Flip(8 + 2 + 4 + 2),
            "wrapped-key-bit" => Flip(wrapped + 3),
            "salt-bit" => Flip(wrapped + 48 + 1),
            "commitment-bit" => Flip(wrapped + 48 + 32 + 1),
            "chunk-body-bit" => Flip(h + sealedChunk + 10),
            "tag-bit" => Flip(h + sealedChunk - 1),
            "truncated-at-chunk-boundary" => stored[..(h + 2 * sealedChunk)],
            "final-chunk-removed" => stored[..(h + 4 * sealedChunk)],
            "bytes-appended" => [.. stored, 0x00],
            "chunks-swapped" => [.. stored[..h], .. stored[(h + sealedChunk)..(h + 2 * sealedChunk)], .. stored[h..(h + sealedChunk)], .. stored[(h + 2 * sealedChunk)..]],
            "spliced-from-other-backup" => Splice(stored, Encrypt(plain, "20260101T000000Z-bbbbbb"), h, sealedChunk),
            "empty-after-header" => stored[..h],
            _ => throw new ArgumentOutOfRangeException(nameof(tamper)),
        };

        await Assert.ThrowsAsync<IntegrityException>(() => DecryptAsync(tampered));
    }

    private static byte[] Splice(byte[] target, byte[] other, int headerLength, int sealedChunk)
    {
        var copy = target.ToArray();
        var otherHeader = HeaderLength(other);
        other.AsSpan(otherHeader + sealedChunk, sealedChunk).CopyTo(copy.AsSpan(headerLength + sealedChunk));
        return copy;
    }

    [Fact]
    public async Task The_wrong_master_key_is_an_integrity_error_that_names_the_key()
    {
        var stored = Encrypt(Data(100));
        var other = MasterKey.FromSecret(new SecretValue("kek", "v1", MasterKey.GenerateSecretValue()));
        var ex = await Assert.ThrowsAsync<IntegrityException>(() => DecryptAsync(stored, other));
        Assert.Contains("'kek' version 'v1'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_plaintext_of_a_tampered_chunk_is_returned()
    {
        var plain = Data(3 * Chunk);
        var stored = Encrypt(plain);
        stored[HeaderLength(stored) + Chunk + 16 + 5] ^= 1; // second chunk
        var source = new MemoryStream(stored);
        var header = await ArchiveHeader.ReadAsync(source, "x");
        using var key = BackupKey.Open(header.Envelope, Master);
        await using var reader = key.CreateArchiveReader(source, header, "x");
        var received = new MemoryStream();
        var buffer = new byte[1000];
        await Assert.ThrowsAsync<IntegrityException>(async () =>
        {
            int n;
            while ((n = await reader.ReadAsync(buffer)) > 0)
            {
                received.Write(buffer, 0, n);
            }
        });
        Assert.Equal(plain[..Chunk], received.ToArray());
    }

    [Fact]
    public async Task A_file_that_is_not_an_archive_is_refused_clearly()
    {
        var ex = await Assert.ThrowsAsync<IntegrityException>(() => ArchiveHeader.ReadAsync(new MemoryStream("PGDMP plain dump"u8.ToArray()), "The file x"));
        Assert.Contains("does not start with a ServerlessBackup header", ex.Message, StringComparison.Ordinal);
    }
}
