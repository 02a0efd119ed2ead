using System.Security.Cryptography;
using ServerlessBackup.Crypto;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Backups;

public sealed partial class BackupEngine
{
    /// <summary>
    /// Seals <paramref name="plain"/> for an object that belongs to no backup (a drill report): a
    /// fresh data key wrapped by the current master key and bound to <paramref name="objectId"/>,
    /// AES-256-GCM under the key derived for <paramref name="role"/>, <paramref name="associatedData"/> bound in.
    /// </summary>
    internal async Task<(ManifestKey Key, ManifestSeal Seal)> SealAsync(string objectId, string role, byte[] plain, byte[] associatedData, CancellationToken cancellationToken)
    {
        var master = await keys.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        using var key = BackupKey.Create(master, objectId);
        return (ToManifestKey(key.Envelope), ManifestCodec.Seal(plain, key, role, associatedData));
    }

    /// <summary>Opens what <see cref="SealAsync"/> sealed, with the master key version it names.</summary>
    /// <exception cref="IntegrityException">It was altered, moved to another id, or the key is wrong.</exception>
    internal async Task<byte[]> OpenSealedAsync(string objectId, string role, ManifestKey wrapped, ManifestSeal seal, byte[] associatedData, string what, CancellationToken cancellationToken)
    {
        var envelope = ManifestCodec.Envelope(objectId, wrapped, what);
        var master = await keys.GetAsync(envelope.KekName, envelope.KekVersion, cancellationToken).ConfigureAwait(false);
        using var key = BackupKey.Open(envelope, master);
        try
        {
            return ManifestCodec.Unseal(seal, key, role, associatedData);
        }
        catch (Exception ex) when (ex is AuthenticationTagMismatchException or FormatException)
        {
            throw new IntegrityException($"{what} does not authenticate: it was altered.", ex);
        }
    }
}
