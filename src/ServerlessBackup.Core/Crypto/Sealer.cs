using System.Security.Cryptography;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Crypto;

/// <summary>
/// Seals the private parts of stored objects: AES-256-GCM under a per-object key derived for a
/// role ("manifest", "verification", "drill-report", "operation-error"), bound to associated data
/// (the object's clear part), so neither part can be edited, swapped or moved to another object.
/// Objects of a backup (its manifest, its verification records) are sealed under the backup's own
/// key with <see cref="Seal"/>; an object that belongs to no backup (a drill report, an operation's
/// error) gets a fresh data key of its own, wrapped by the current master key (<see cref="SealAsync"/>).
/// </summary>
public sealed class Sealer
{
    private readonly MasterKeyProvider keys;

    public Sealer(MasterKeyProvider keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        this.keys = keys;
    }

    /// <summary>Seals <paramref name="plain"/> for <paramref name="objectId"/> under a fresh data key wrapped by the current master key.</summary>
    /// <exception cref="SbkException">Configuration: no master key.</exception>
    public async Task<SealedObject> SealAsync(string objectId, string role, byte[] plain, byte[] associatedData, CancellationToken cancellationToken)
    {
        var master = await keys.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        using var key = BackupKey.Create(master, objectId);
        return new SealedObject(StoredKey.From(key.Envelope), Seal(plain, key, role, associatedData));
    }

    /// <summary>Opens what <see cref="SealAsync"/> sealed, with the master key version it names; <paramref name="what"/> names it in errors.</summary>
    /// <exception cref="IntegrityException">It was altered, moved to another object, or the key is wrong.</exception>
    public async Task<byte[]> OpenAsync(string objectId, string role, SealedObject sealedObject, byte[] associatedData, string what, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sealedObject);
        var envelope = sealedObject.Key.ToEnvelope(objectId, what);
        var master = await keys.GetAsync(envelope.KekName, envelope.KekVersion, cancellationToken).ConfigureAwait(false);
        using var key = BackupKey.Open(envelope, master);
        try
        {
            return Unseal(sealedObject.Seal, key, role, associatedData);
        }
        catch (Exception ex) when (ex is AuthenticationTagMismatchException or FormatException)
        {
            throw new IntegrityException($"{what} does not authenticate: it was altered.", ex);
        }
    }

    /// <summary>AES-256-GCM of <paramref name="plain"/> under <paramref name="key"/>'s key for <paramref name="role"/>, bound to <paramref name="associatedData"/>.</summary>
    public static SealedPart Seal(ReadOnlySpan<byte> plain, BackupKey key, string role, ReadOnlySpan<byte> associatedData)
    {
        ArgumentNullException.ThrowIfNull(key);
        var nonce = RandomNumberGenerator.GetBytes(12);
        var output = new byte[plain.Length + 16];
        using (var aes = new AesGcm(key.ObjectKey(role), 16))
        {
            aes.Encrypt(nonce, plain, output.AsSpan(0, plain.Length), output.AsSpan(plain.Length), associatedData);
        }

        return new SealedPart(Convert.ToBase64String(nonce), Convert.ToBase64String(output));
    }

    /// <summary>Opens a <see cref="Seal"/>.</summary>
    /// <exception cref="AuthenticationTagMismatchException">It does not authenticate.</exception>
    /// <exception cref="FormatException">It is not a sealed part.</exception>
    public static byte[] Unseal(SealedPart part, BackupKey key, string role, ReadOnlySpan<byte> associatedData)
    {
        ArgumentNullException.ThrowIfNull(part);
        ArgumentNullException.ThrowIfNull(key);
        var nonce = Convert.FromBase64String(part.Nonce);
        var sealedBytes = Convert.FromBase64String(part.Ciphertext);
        if (nonce.Length != 12 || sealedBytes.Length < 16)
        {
            throw new FormatException("A sealed part has the wrong shape.");
        }

        var plain = new byte[sealedBytes.Length - 16];
        using (var aes = new AesGcm(key.ObjectKey(role), 16))
        {
            aes.Decrypt(nonce, sealedBytes.AsSpan(0, plain.Length), sealedBytes.AsSpan(plain.Length), plain, associatedData);
        }

        return plain;
    }
}

/// <summary>A data key as stored: wrapped by a master key version; base64 fields.</summary>
/// <param name="KekName">Master key secret name.</param>
/// <param name="KekVersion">Master key secret version.</param>
/// <param name="WrapNonce">Nonce of the wrap.</param>
/// <param name="WrappedKey">The wrapped key and its tag.</param>
/// <param name="Salt">HKDF salt.</param>
/// <param name="Commitment">Key commitment.</param>
public sealed record StoredKey(string KekName, string KekVersion, string WrapNonce, string WrappedKey, string Salt, string Commitment)
{
    /// <summary>The stored form of <paramref name="envelope"/>.</summary>
    public static StoredKey From(KeyEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return new(envelope.KekName, envelope.KekVersion, Convert.ToBase64String(envelope.WrapNonce),
            Convert.ToBase64String(envelope.WrappedKey), Convert.ToBase64String(envelope.Salt), Convert.ToBase64String(envelope.Commitment));
    }

    /// <summary>The envelope of the object <paramref name="objectId"/> (a backup, a drill report); <paramref name="what"/> names it in errors.</summary>
    /// <exception cref="IntegrityException">A field is not base64: it was altered.</exception>
    public KeyEnvelope ToEnvelope(string objectId, string what)
    {
        try
        {
            return new KeyEnvelope(objectId, KekName, KekVersion, Convert.FromBase64String(WrapNonce),
                Convert.FromBase64String(WrappedKey), Convert.FromBase64String(Salt), Convert.FromBase64String(Commitment));
        }
        catch (FormatException ex)
        {
            throw new IntegrityException($"{what} has a malformed key envelope: it was altered.", ex);
        }
    }
}

/// <summary>A sealed part: AES-256-GCM; base64 fields.</summary>
/// <param name="Nonce">base64 nonce.</param>
/// <param name="Ciphertext">base64 ciphertext and tag.</param>
public sealed record SealedPart(string Nonce, string Ciphertext);

/// <summary>A sealed part with the wrapped key that opens it.</summary>
/// <param name="Key">The data key, wrapped.</param>
/// <param name="Seal">The ciphertext.</param>
public sealed record SealedObject(StoredKey Key, SealedPart Seal);
