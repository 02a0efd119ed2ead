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
    private static readonly JsonSerializerOptions Canonical = new(SbkJson.Web(stringEnums: true))
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private static readonly JsonSerializerOptions Stored = new(Canonical) { WriteIndented = true };

    /// <summary>Seals <paramref name="secret"/> into <paramref name="manifest"/> and serializes the result.</summary>
    public static byte[] Write(Manifest manifest, ManifestPrivate secret, BackupKey key)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(key);
        var clear = manifest with { Sealed = null };
        var seal = Sealer.Seal(JsonSerializer.SerializeToUtf8Bytes(secret, Canonical.Info<ManifestPrivate>()), key, BackupKey.ManifestRole, AssociatedData(clear));
        var sealedManifest = clear with { Sealed = seal };
        return JsonSerializer.SerializeToUtf8Bytes(sealedManifest, Stored.Info<Manifest>());
    }

    /// <summary>Parses a manifest's clear part without checking it (listing). Returns null if it is not a manifest.</summary>
    public static Manifest? ReadClear(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, Canonical.Info<Manifest>());
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
        return manifest.Key.ToEnvelope(manifest.BackupId, $"The manifest of backup {manifest.BackupId}");
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
            var plain = Sealer.Unseal(manifest.Sealed, key, BackupKey.ManifestRole, AssociatedData(manifest with { Sealed = null }));
            return JsonSerializer.Deserialize(plain, Canonical.Info<ManifestPrivate>()) ?? throw new FormatException();
        }
        catch (Exception ex) when (ex is AuthenticationTagMismatchException or FormatException or JsonException)
        {
            throw new IntegrityException(
                $"The manifest of backup {manifest.BackupId} ({manifest.Database}) does not authenticate: it was edited (a label, a size, a count or the census), or it belongs to another backup. Do not trust this backup's listing; its archive may still decrypt with 'sbk decrypt'.", ex);
        }
    }

    /// <summary>The options records are serialized with when sealed or stored.</summary>
    internal static JsonSerializerOptions CanonicalJson => Canonical;

    /// <summary>The options records are stored with (indented).</summary>
    internal static JsonSerializerOptions StoredJson => Stored;

    private static byte[] AssociatedData(Manifest clear) => SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(clear, Canonical.Info<Manifest>()));
}
