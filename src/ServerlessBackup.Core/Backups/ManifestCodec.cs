using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessBackup.Crypto;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Backups;

/// <summary>
/// Writes and reads manifests. The private part is sealed with AES-256-GCM under the backup's
/// manifest key; its associated data is the SHA-256 of the clear part's canonical JSON (the
/// manifest serialized compactly without <c>sealed</c>), so any edit of either part is detected.
/// </summary>
public static class ManifestCodec
{
    private static readonly JsonSerializerOptions Canonical = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private static readonly JsonSerializerOptions Stored = new(Canonical) { WriteIndented = true };

    /// <summary>Seals <paramref name="secret"/> into <paramref name="manifest"/> and serializes the result.</summary>
    public static byte[] Write(Manifest manifest, ManifestPrivate secret, BackupKey key)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(key);
        var clear = manifest with { Sealed = null };
        var seal = Seal(JsonSerializer.SerializeToUtf8Bytes(secret, Canonical), key, BackupKey.ManifestRole, AssociatedData(clear));
        var sealedManifest = clear with { Sealed = seal };
        return JsonSerializer.SerializeToUtf8Bytes(sealedManifest, Stored);
    }

    /// <summary>Parses a manifest's clear part without checking it (listing). Returns null if it is not a manifest.</summary>
    public static Manifest? ReadClear(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize<Manifest>(json, Canonical);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The key envelope the manifest carries.</summary>
    public static KeyEnvelope Envelope(Manifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return Envelope(manifest.BackupId, manifest.Key, $"The manifest of backup {manifest.BackupId}");
    }

    /// <summary>The key envelope stored as <paramref name="k"/> for the object <paramref name="id"/> (a backup, a drill report).</summary>
    internal static KeyEnvelope Envelope(string id, ManifestKey k, string what)
    {
        try
        {
            return new KeyEnvelope(id, k.KekName, k.KekVersion, Convert.FromBase64String(k.WrapNonce),
                Convert.FromBase64String(k.WrappedKey), Convert.FromBase64String(k.Salt), Convert.FromBase64String(k.Commitment));
        }
        catch (FormatException ex)
        {
            throw new IntegrityException($"{what} has a malformed key envelope: it was altered.", ex);
        }
    }

    /// <summary>Authenticates the whole manifest and returns its private part.</summary>
    /// <exception cref="IntegrityException">Any part of the manifest was altered, or the key is wrong.</exception>
    public static ManifestPrivate Open(Manifest manifest, BackupKey key)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(key);
        if (manifest.Sealed is null)
        {
            throw new IntegrityException($"The manifest of backup {manifest.BackupId} has no sealed part: it was altered.");
        }

        try
        {
            var plain = Unseal(manifest.Sealed, key, BackupKey.ManifestRole, AssociatedData(manifest with { Sealed = null }));
            return JsonSerializer.Deserialize<ManifestPrivate>(plain, Canonical) ?? throw new FormatException();
        }
        catch (Exception ex) when (ex is AuthenticationTagMismatchException or FormatException or JsonException)
        {
            throw new IntegrityException(
                $"The manifest of backup {manifest.BackupId} ({manifest.Database}) does not authenticate: it was edited (a label, a size, a count or the census), or it belongs to another backup. Do not trust this backup's listing; its archive may still decrypt with 'sbk decrypt'.", ex);
        }
    }

    /// <summary>AES-256-GCM of <paramref name="plain"/> under the backup's key for <paramref name="role"/>, bound to <paramref name="associatedData"/>.</summary>
    internal static ManifestSeal Seal(ReadOnlySpan<byte> plain, BackupKey key, string role, ReadOnlySpan<byte> associatedData)
    {
        var nonce = RandomNumberGenerator.GetBytes(12);
        var output = new byte[plain.Length + 16];
        using (var aes = new AesGcm(key.ObjectKey(role), 16))
        {
            aes.Encrypt(nonce, plain, output.AsSpan(0, plain.Length), output.AsSpan(plain.Length), associatedData);
        }

        return new ManifestSeal(Convert.ToBase64String(nonce), Convert.ToBase64String(output));
    }

    /// <summary>Opens a <see cref="Seal"/>; throws <see cref="AuthenticationTagMismatchException"/> or <see cref="FormatException"/> when it does not authenticate.</summary>
    internal static byte[] Unseal(ManifestSeal seal, BackupKey key, string role, ReadOnlySpan<byte> associatedData)
    {
        var nonce = Convert.FromBase64String(seal.Nonce);
        var sealedBytes = Convert.FromBase64String(seal.Ciphertext);
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

    /// <summary>The options records are serialized with when sealed or stored.</summary>
    internal static JsonSerializerOptions CanonicalJson => Canonical;

    /// <summary>The options records are stored with (indented).</summary>
    internal static JsonSerializerOptions StoredJson => Stored;

    private static byte[] AssociatedData(Manifest clear) => SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(clear, Canonical));
}
