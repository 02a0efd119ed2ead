using System.Security.Cryptography;
using System.Text;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Crypto;

/// <summary>
/// A backup's data key wrapped by the master key, with what is needed to unwrap and check it:
/// the master key's name and version, the wrap nonce, the salt and the key commitment.
/// The same envelope is written in the archive header and in the manifest.
/// </summary>
public sealed record KeyEnvelope(
    string BackupId,
    string KekName,
    string KekVersion,
    byte[] WrapNonce,
    byte[] WrappedKey,
    byte[] Salt,
    byte[] Commitment)
{
    internal const int NonceLength = 12;
    internal const int TagLength = 16;
    internal const int WrappedLength = DataKey.Length + TagLength;

    internal static (KeyEnvelope Envelope, DataKey Key) Create(MasterKey master, string backupId)
    {
        var dataKey = DataKey.Create(backupId);
        var nonce = RandomNumberGenerator.GetBytes(NonceLength);
        var wrapped = new byte[WrappedLength];
        using (var aes = new AesGcm(master.Key, TagLength))
        {
            aes.Encrypt(nonce, dataKey.Material, wrapped.AsSpan(0, DataKey.Length), wrapped.AsSpan(DataKey.Length), WrapAad(backupId, master.Name, master.Version));
        }

        var envelope = new KeyEnvelope(backupId, master.Name, master.Version, nonce, wrapped, dataKey.Salt.ToArray(), dataKey.Commitment());
        return (envelope, dataKey);
    }

    /// <summary>Unwraps the data key and checks the key commitment.</summary>
    /// <exception cref="IntegrityException">The master key is wrong, or the envelope was altered.</exception>
    internal DataKey Open(MasterKey master)
    {
        if (master.Name != KekName || master.Version != KekVersion)
        {
            throw new ArgumentException($"This backup was wrapped by '{KekName}' version '{KekVersion}', not by {master}.", nameof(master));
        }

        if (WrapNonce.Length != NonceLength || WrappedKey.Length != WrappedLength || Salt.Length != DataKey.SaltLength || Commitment.Length != 32)
        {
            throw new IntegrityException($"The key envelope of backup {BackupId} is malformed: it was altered or truncated.");
        }

        var plain = new byte[DataKey.Length];
        try
        {
            using var aes = new AesGcm(master.Key, TagLength);
            aes.Decrypt(WrapNonce, WrappedKey.AsSpan(0, DataKey.Length), WrappedKey.AsSpan(DataKey.Length), plain, WrapAad(BackupId, KekName, KekVersion));
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new IntegrityException(
                $"The data key of backup {BackupId} does not unwrap with master key '{KekName}' version '{KekVersion}': the key in the secret store is not the one that made this backup, or the stored key envelope was altered.", ex);
        }

        var dataKey = new DataKey(plain, Salt, BackupId);
        if (!CryptographicOperations.FixedTimeEquals(dataKey.Commitment(), Commitment))
        {
            dataKey.Dispose();
            throw new IntegrityException($"The key commitment of backup {BackupId} does not match its data key: the header was altered.");
        }

        return dataKey;
    }

    private static byte[] WrapAad(string backupId, string kekName, string kekVersion) =>
        Encoding.UTF8.GetBytes($"sbk/v1/wrap\0{backupId}\0{kekName}\0{kekVersion}");
}
