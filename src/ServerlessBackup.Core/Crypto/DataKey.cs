using System.Security.Cryptography;
using System.Text;

namespace ServerlessBackup.Crypto;

/// <summary>
/// A backup's random data key and the salt its per-object keys are derived with
/// (HKDF-SHA256, info <c>sbk/v1/{purpose}/{backupId}</c>). See docs/format.md.
/// </summary>
internal sealed class DataKey : IDisposable
{
    public const int Length = 32;
    public const int SaltLength = 32;
    private readonly byte[] key;
    private readonly byte[] salt;
    private readonly string backupId;

    public DataKey(byte[] key, byte[] salt, string backupId)
    {
        this.key = key;
        this.salt = salt;
        this.backupId = backupId;
    }

    public static DataKey Create(string backupId) =>
        new(RandomNumberGenerator.GetBytes(Length), RandomNumberGenerator.GetBytes(SaltLength), backupId);

    public ReadOnlySpan<byte> Material => key;

    public ReadOnlySpan<byte> Salt => salt;

    /// <summary>The key-commitment value stored in the header: binds the ciphertext to exactly this key.</summary>
    public byte[] Commitment() => Derive("commit");

    /// <summary>The AES-256-GCM key for one object ("archive", "manifest").</summary>
    public byte[] ObjectKey(string role) => Derive("key/" + role);

    private byte[] Derive(string purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32, salt, Encoding.UTF8.GetBytes($"sbk/v1/{purpose}/{backupId}"));

    public void Dispose() => CryptographicOperations.ZeroMemory(key);
}
