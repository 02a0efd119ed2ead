using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using ServerlessBackup.Crypto;
using ServerlessBackup.Errors;
using ServerlessBackup.Storage;
using ServerlessBackup.Verify;

namespace ServerlessBackup.Backups;

public sealed partial class BackupEngine
{
    /// <summary>
    /// Stores a verification's result next to its backup (one object per level, the latest
    /// replacing the one before), without touching the manifest or the archive. The report names
    /// tables and counts, so it is sealed under the backup's key; level, time and outcome are in
    /// clear, as object metadata, for listing.
    /// </summary>
    internal async Task RecordVerificationAsync(VerificationReport report, CancellationToken cancellationToken)
    {
        var (_, key) = await OpenVerifiedAsync(report.Database, report.BackupId, cancellationToken).ConfigureAwait(false);
        using var _ = key;
        var clear = new StoredVerification(1, report.Database, report.BackupId, report.Level, report.Passed, report.StartedAt, null);
        var seal = Sealer.Seal(JsonSerializer.SerializeToUtf8Bytes(report, ManifestCodec.CanonicalJson.Info<VerificationReport>()), key, BackupKey.VerificationRole, AssociatedData(clear));
        var bytes = JsonSerializer.SerializeToUtf8Bytes(clear with { Sealed = seal }, ManifestCodec.StoredJson.Info<StoredVerification>());
        var objectKey = BackupLayout.Verification(report.Database, report.BackupId, report.Level.ToString());
        var metadata = new Dictionary<string, string>
        {
            ["backupid"] = report.BackupId,
            ["level"] = report.Level.ToString(),
            ["passed"] = report.Passed ? "true" : "false",
            ["verifiedat"] = report.StartedAt.ToString("O", CultureInfo.InvariantCulture),
        };
        metadata["sig"] = await signer.SignAsync(objectKey, StateSigner.Fields(metadata), cancellationToken).ConfigureAwait(false);
        await store.PutAsync(objectKey, bytes, overwrite: true, metadata, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The latest stored verification report of a backup at <paramref name="level"/>, authenticated; null if there is none.</summary>
    /// <exception cref="IntegrityException">The stored report was altered.</exception>
    public async Task<VerificationReport?> ReadVerificationAsync(string database, string backupIdOrLatest, VerificationLevel level, CancellationToken cancellationToken = default)
    {
        var (details, key) = await OpenVerifiedAsync(database, backupIdOrLatest, cancellationToken).ConfigureAwait(false);
        using var _ = key;
        var objectKey = BackupLayout.Verification(database, details.Manifest.BackupId, level.ToString());
        if (await store.GetInfoAsync(objectKey, cancellationToken).ConfigureAwait(false) is null)
        {
            return null;
        }

        await using var stream = await store.OpenReadAsync(objectKey, cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        try
        {
            var stored = JsonSerializer.Deserialize(buffer.ToArray(), ManifestCodec.CanonicalJson.Info<StoredVerification>()) ?? throw new FormatException();
            if (stored.Sealed is null || stored.BackupId != details.Manifest.BackupId || stored.Database != database)
            {
                throw new FormatException();
            }

            var plain = Sealer.Unseal(stored.Sealed, key, BackupKey.VerificationRole, AssociatedData(stored with { Sealed = null }));
            return JsonSerializer.Deserialize(plain, ManifestCodec.CanonicalJson.Info<VerificationReport>());
        }
        catch (Exception ex) when (ex is JsonException or FormatException or AuthenticationTagMismatchException)
        {
            throw new IntegrityException($"The stored {level} verification of backup {details.Manifest.BackupId} ({database}) does not authenticate: it was altered. Verify the backup again.", ex);
        }
    }

    /// <summary>
    /// A stored verification's level, time and outcome: from its signed metadata, else from the
    /// stored record authenticated under the backup's key; null when neither can be trusted.
    /// </summary>
    private async Task<VerificationStatus?> VerificationStatusAsync(string database, string backupId, ObjectInfo item, CancellationToken cancellationToken)
    {
        var m = item.Metadata;
        var fields = m.Where(kv => kv.Key != "sig").ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        if (m.TryGetValue("level", out var level) && Enum.TryParse<VerificationLevel>(level, ignoreCase: false, out var parsed) && Enum.IsDefined(parsed)
            && item.Key == BackupLayout.Verification(database, backupId, parsed.ToString())
            && m.TryGetValue("verifiedat", out var at) && DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.None, out var verifiedAt)
            && fields.GetValueOrDefault("backupid") == backupId
            && await signer.VerifyAsync(item.Key, StateSigner.Fields(fields), m.GetValueOrDefault("sig"), cancellationToken).ConfigureAwait(false))
        {
            return new VerificationStatus(parsed, verifiedAt, m.GetValueOrDefault("passed") == "true");
        }

        // Unsigned (written before signatures) or forged metadata: believe only the record itself, opened with the backup's key.
        try
        {
            var (details, key) = await OpenVerifiedAsync(database, backupId, cancellationToken).ConfigureAwait(false);
            using var _ = key;
            await using var stream = await store.OpenReadAsync(item.Key, cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            var stored = JsonSerializer.Deserialize(buffer.ToArray(), ManifestCodec.CanonicalJson.Info<StoredVerification>());
            if (stored?.Sealed is null || stored.BackupId != details.Manifest.BackupId || stored.Database != database
                || item.Key != BackupLayout.Verification(database, backupId, stored.Level.ToString()))
            {
                return null;
            }

            Sealer.Unseal(stored.Sealed, key, BackupKey.VerificationRole, AssociatedData(stored with { Sealed = null }));
            return new VerificationStatus(stored.Level, stored.VerifiedAt, stored.Passed);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or AuthenticationTagMismatchException or IntegrityException or SbkException)
        {
            return null;
        }
    }

    private static byte[] AssociatedData(StoredVerification clear) => SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(clear, ManifestCodec.CanonicalJson.Info<StoredVerification>()));

    internal sealed record StoredVerification(int FormatVersion, string Database, string BackupId, VerificationLevel Level, bool Passed, DateTimeOffset VerifiedAt, SealedPart? Sealed);
}
