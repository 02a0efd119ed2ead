using ServerlessBackup.Backups;
using ServerlessBackup.Crypto;
using ServerlessBackup.Secrets;
using ServerlessBackup.Storage;

namespace ServerlessBackup.Tests.Infrastructure;

/// <summary>
/// Rewrites a stored manifest and re-seals it with the backup's real key: what a bug (or someone
/// holding the master key) could do, to test what verification catches beyond authentication.
/// </summary>
internal static class TestManifests
{
    public static async Task RewriteAsync(IObjectStore store, ISecretStore secrets, string masterKeySecret, string database, string backupId,
        Func<Manifest, ManifestPrivate, (Manifest, ManifestPrivate)> edit)
    {
        var key = BackupLayout.Manifest(database, backupId);
        await using var stream = await store.OpenReadAsync(key);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        var manifest = ManifestCodec.ReadClear(buffer.ToArray())!;
        var envelope = ManifestCodec.Envelope(manifest);
        var master = MasterKey.FromSecret(await secrets.GetSecretAsync(masterKeySecret, envelope.KekVersion));
        using var backupKey = BackupKey.Open(envelope, master);
        var (newManifest, newPrivate) = edit(manifest, ManifestCodec.Open(manifest, backupKey));
        await store.PutAsync(key, ManifestCodec.Write(newManifest, newPrivate, backupKey), overwrite: true, new Dictionary<string, string>());
    }
}
