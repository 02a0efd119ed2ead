using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Compression;
using ServerlessBackup.Crypto;
using ServerlessBackup.Errors;
using ServerlessBackup.Storage;
using ServerlessBackup.Verify;

namespace ServerlessBackup.Backups;

public sealed partial class BackupEngine
{
    /// <summary>
    /// Complete backups (those with a manifest), newest first, of one catalogued database or of
    /// every catalogued database, as <see cref="ListCheckedAsync"/> finds them; what it ignored is
    /// logged (<c>[sbk.untrusted-object]</c>).
    /// </summary>
    public async Task<IReadOnlyList<BackupSummary>> ListAsync(string? database = null, CancellationToken cancellationToken = default)
    {
        var listing = await ListCheckedAsync(database, cancellationToken).ConfigureAwait(false);
        foreach (var problem in listing.Ignored)
        {
            logger.LogWarning("[sbk.untrusted-object] {Problem}", problem);
        }

        return listing.Backups;
    }

    /// <summary>
    /// Complete backups, newest first, and what was ignored. Listing reads object metadata, whose
    /// signature (a MAC under the master key) is checked: metadata that is missing, unsigned or
    /// forged is replaced by the manifest's own authenticated values, and a backup whose manifest
    /// does not authenticate either is left out (and named in <see cref="BackupListing.Ignored"/>),
    /// so a forged start time, label or size never makes a backup "latest", fresh, or deletable.
    /// Verification results count only when their metadata is signed or the stored report
    /// authenticates. Each database is listed by its own prefix (several at once).
    /// </summary>
    public async Task<BackupListing> ListCheckedAsync(string? database = null, CancellationToken cancellationToken = default)
    {
        var names = database is null ? options.Databases.Keys.ToList() : [database];
        if (database is not null)
        {
            ResolveDatabase(database);
        }

        var all = new List<BackupSummary>();
        var ignored = new List<string>();
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (name, ct) =>
        {
            var (backups, problems) = await ListDatabaseAsync(name, ct).ConfigureAwait(false);
            lock (all)
            {
                all.AddRange(backups);
                ignored.AddRange(problems);
            }
        }).ConfigureAwait(false);

        // Newest first by start time (ids order only to the second), then id, then database.
        return new BackupListing(
            all.OrderByDescending(b => b.StartedAt).ThenByDescending(b => b.BackupId, StringComparer.Ordinal).ThenBy(b => b.Database, StringComparer.Ordinal).ToList(),
            ignored.Order(StringComparer.Ordinal).ToList());
    }

    private async Task<(List<BackupSummary> Backups, List<string> Problems)> ListDatabaseAsync(string database, CancellationToken cancellationToken)
    {
        var manifests = new List<ObjectInfo>();
        var verifications = new List<ObjectInfo>();
        await foreach (var item in store.ListAsync(BackupLayout.DatabasePrefix(database), cancellationToken).ConfigureAwait(false))
        {
            var parts = item.Key.Split('/');
            if (parts.Length != 3 || parts[0] != database || !BackupId.IsValid(parts[1]))
            {
                continue;
            }

            if (parts[2] == "manifest.json")
            {
                manifests.Add(item);
            }
            else if (parts[2].StartsWith("verification-", StringComparison.Ordinal))
            {
                verifications.Add(item);
            }
        }

        var problems = new List<string>();
        var result = new List<BackupSummary>();
        foreach (var manifest in manifests)
        {
            var backupId = manifest.Key.Split('/')[1];
            if (await SummarizeAsync(database, backupId, manifest, cancellationToken).ConfigureAwait(false) is { } summary)
            {
                result.Add(summary);
            }
            else
            {
                problems.Add($"Backup {backupId} of '{database}' is left out of the listing: its manifest ({manifest.Key}) does not authenticate (it was forged or altered). Do not trust it; 'sbk show {database} {backupId}' says more.");
            }
        }

        var listed = result.Select(b => b.BackupId).ToHashSet(StringComparer.Ordinal);
        var byBackup = new Dictionary<string, List<VerificationStatus>>(StringComparer.Ordinal);
        foreach (var item in verifications)
        {
            var backupId = item.Key.Split('/')[1];
            if (!listed.Contains(backupId))
            {
                continue;
            }

            if (await VerificationStatusAsync(database, backupId, item, cancellationToken).ConfigureAwait(false) is { } status)
            {
                if (!byBackup.TryGetValue(backupId, out var list))
                {
                    byBackup[backupId] = list = [];
                }

                list.Add(status);
            }
            else
            {
                problems.Add($"The verification record {item.Key} is ignored: it does not authenticate (it was forged or altered). Verify the backup again: sbk verify {database} {backupId}");
            }
        }

        return (result.Select(b => byBackup.TryGetValue(b.BackupId, out var list)
            ? b with
            {
                Verified = list.Where(v => v.Passed).OrderByDescending(v => v.Level).FirstOrDefault(),
                LastVerification = list.OrderByDescending(v => v.VerifiedAt).First(),
            }
            : b).ToList(), problems);
    }

    /// <summary>A backup's listing from its signed metadata, else from its authenticated manifest; null when neither can be trusted.</summary>
    private async Task<BackupSummary?> SummarizeAsync(string database, string backupId, ObjectInfo manifest, CancellationToken cancellationToken)
    {
        var m = manifest.Metadata;
        var fields = m.Where(kv => kv.Key != "sig").ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        if (m.TryGetValue("startedat", out var started) && DateTimeOffset.TryParse(started, CultureInfo.InvariantCulture, DateTimeStyles.None, out var startedAt)
            && m.TryGetValue("snapshottime", out var snapshot) && DateTimeOffset.TryParse(snapshot, CultureInfo.InvariantCulture, DateTimeStyles.None, out var snapshotTime)
            && m.TryGetValue("archivelength", out var length) && long.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out var archiveLength)
            && m.TryGetValue("dumplength", out var dumpLength) && long.TryParse(dumpLength, NumberStyles.None, CultureInfo.InvariantCulture, out var dumpBytes)
            && fields.GetValueOrDefault("backupid") == backupId
            && await signer.VerifyAsync(manifest.Key, StateSigner.Fields(fields), m.GetValueOrDefault("sig"), cancellationToken).ConfigureAwait(false))
        {
            return new BackupSummary(database, backupId, startedAt, snapshotTime, m.GetValueOrDefault("label"), archiveLength, dumpBytes);
        }

        // Metadata lost (a copy between accounts), written before it was signed, or forged: believe only the authenticated manifest.
        try
        {
            var details = await ShowAsync(database, backupId, cancellationToken).ConfigureAwait(false);
            var clear = details.Manifest;
            return new BackupSummary(database, backupId, clear.StartedAt, clear.SnapshotTime, clear.Label, clear.Archive.Length, clear.Archive.DumpLength);
        }
        catch (IntegrityException)
        {
            return null;
        }
        catch (SbkException ex) when (ex.Kind == SbkErrorKind.NotFound)
        {
            // Deleted while listing, or its master key version is gone: not a backup anyone can restore.
            return null;
        }
    }

    /// <summary>Resolves "latest" (or an id) to a backup id that has a manifest.</summary>
    public async Task<string> ResolveBackupIdAsync(string database, string backupIdOrLatest, CancellationToken cancellationToken = default)
    {
        ResolveDatabase(database);
        if (string.Equals(backupIdOrLatest, "latest", StringComparison.OrdinalIgnoreCase))
        {
            var all = await ListAsync(database, cancellationToken).ConfigureAwait(false);
            return all.Count > 0
                ? all[0].BackupId
                : throw new SbkException(SbkErrorKind.NotFound, $"Database '{database}' has no complete backup in {store.Description}. Take one with: sbk backup {database}");
        }

        if (!BackupId.IsValid(backupIdOrLatest))
        {
            throw new SbkException(SbkErrorKind.Configuration, $"'{Sanitize(backupIdOrLatest)}' is not a backup id (they look like 20261121T084627Z-k3f9x2) nor 'latest'. List them with: sbk list {database}");
        }

        if (await store.GetInfoAsync(BackupLayout.Manifest(database, backupIdOrLatest), cancellationToken).ConfigureAwait(false) is null)
        {
            throw new SbkException(SbkErrorKind.NotFound, $"Database '{database}' has no backup {backupIdOrLatest} in {store.Description} (or it never completed). List them with: sbk list {database}");
        }

        return backupIdOrLatest;
    }

    /// <summary>
    /// The newest complete backup of <paramref name="database"/> whose snapshot was taken strictly
    /// before <paramref name="before"/> ("the last good state before the incident"), authenticated.
    /// </summary>
    /// <exception cref="SbkException">NotFound: no backup is that old, naming the oldest there is.</exception>
    /// <exception cref="IntegrityException">The chosen backup's authenticated snapshot time is not before the instant (its listing was altered).</exception>
    public async Task<BackupDetails> ShowBeforeAsync(string database, DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        ResolveDatabase(database);
        var all = await ListAsync(database, cancellationToken).ConfigureAwait(false);
        var chosen = all.Where(b => b.SnapshotTime < before).OrderByDescending(b => b.SnapshotTime).FirstOrDefault();
        if (chosen is null)
        {
            var at = before.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            throw new SbkException(SbkErrorKind.NotFound, all.Count == 0
                ? $"Database '{database}' has no complete backup in {store.Description}, so none from before {at} UTC."
                : $"Database '{database}' has no backup taken before {at} UTC; the oldest is {all[^1].BackupId} (snapshot {all[^1].SnapshotTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC). List them with: sbk list {database}");
        }

        var details = await ShowAsync(database, chosen.BackupId, cancellationToken).ConfigureAwait(false);
        if (details.Manifest.SnapshotTime >= before)
        {
            throw new IntegrityException($"Backup {chosen.BackupId} of '{database}' is listed with a snapshot before the requested instant, but its authenticated manifest says {details.Manifest.SnapshotTime:u}: its listing in the store was altered. Choose a backup by id (sbk list {database}).");
        }

        return details;
    }

    /// <summary>A backup's manifest, authenticated with its key, including the sealed census.</summary>
    /// <exception cref="IntegrityException">The manifest was altered.</exception>
    public async Task<BackupDetails> ShowAsync(string database, string backupIdOrLatest, CancellationToken cancellationToken = default)
    {
        var (details, key) = await OpenVerifiedAsync(database, backupIdOrLatest, cancellationToken).ConfigureAwait(false);
        key.Dispose();
        return details;
    }

    /// <summary>Reads the manifest once, unwraps its key once, and authenticates it; the caller disposes the key.</summary>
    private async Task<(BackupDetails Details, BackupKey Key)> OpenVerifiedAsync(string database, string backupIdOrLatest, CancellationToken cancellationToken)
    {
        var backupId = await ResolveBackupIdAsync(database, backupIdOrLatest, cancellationToken).ConfigureAwait(false);
        var manifest = await ReadManifestAsync(database, backupId, cancellationToken).ConfigureAwait(false);
        var key = await OpenKeyAsync(manifest, cancellationToken).ConfigureAwait(false);
        try
        {
            return (new BackupDetails(manifest, ManifestCodec.Open(manifest, key)), key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a stored backup for streaming: the manifest is authenticated, the archive's header
    /// checked against it, and the returned stream yields only authenticated plaintext.
    /// </summary>
    internal async Task<ArchivePlaintext> OpenArchiveAsync(string database, string backupIdOrLatest, CancellationToken cancellationToken)
    {
        var (details, key) = await OpenVerifiedAsync(database, backupIdOrLatest, cancellationToken).ConfigureAwait(false);
        try
        {
            var manifest = details.Manifest;
            var what = $"The archive of backup {manifest.BackupId} ({database})";
            var stored = new ObservedStream(await store.OpenReadAsync(manifest.Archive.Key, cancellationToken).ConfigureAwait(false), hash: true);
            try
            {
                var header = await ArchiveHeader.ReadAsync(stored, what, cancellationToken).ConfigureAwait(false);
                if (!Convert.ToHexStringLower(header.Hash).Equals(details.Private.HeaderSha256, StringComparison.Ordinal))
                {
                    throw new IntegrityException($"{what} has a header that its manifest does not name: the archive was replaced.");
                }

                var plain = Decoded(key.CreateArchiveReader(stored, header, what), header.Encoding);

                return new ArchivePlaintext(details, key, stored, new ObservedStream(plain, what: what));
            }
            catch
            {
                await stored.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Decrypts a stored backup into a pg_restore-ready archive at <paramref name="outputPath"/>.
    /// The manifest is authenticated first; every chunk authenticates before it is written; the
    /// archive's hash and header must match the manifest. The file appears only when all of it
    /// checked out: on any failure nothing is left at <paramref name="outputPath"/>.
    /// </summary>
    public Task<DecryptResult> DecryptAsync(string database, string backupIdOrLatest, string outputPath, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default) =>
        CancelledException.SayingAsync(DecryptCoreAsync(database, backupIdOrLatest, outputPath, progress, cancellationToken), $"The decryption stopped: the unfinished output was removed and nothing was written to {outputPath}.", cancellationToken);

    private async Task<DecryptResult> DecryptCoreAsync(string database, string backupIdOrLatest, string outputPath, IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        await using var archive = await OpenArchiveAsync(database, backupIdOrLatest, cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var bytes = await WriteAtomicallyAsync(outputPath, async partial =>
        {
            var written = await PlaintextFile.WriteAsync(archive.Stream, partial, durable: true,
                n => progress?.Report(new WorkProgress(WorkPhase.Decrypting, archive.StoredBytesRead, n, clock.Elapsed)), cancellationToken).ConfigureAwait(false);
            archive.VerifyComplete();
            return written;
        }).ConfigureAwait(false);
        progress?.Report(new WorkProgress(WorkPhase.Done, archive.StoredBytesRead, bytes, clock.Elapsed));
        return new DecryptResult(archive.Details.Manifest.BackupId, outputPath, bytes, ManifestChecked: true);
    }

    /// <summary>
    /// The emergency path: decrypts a lone archive file (downloaded from the store by any means)
    /// with nothing but the master key it names, found in the secret store.
    /// </summary>
    public Task<DecryptResult> DecryptArchiveFileAsync(string archivePath, string outputPath, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default) =>
        CancelledException.SayingAsync(DecryptArchiveFileCoreAsync(archivePath, outputPath, progress, cancellationToken), $"The decryption stopped: the unfinished output was removed and nothing was written to {outputPath}.", cancellationToken);

    private async Task<DecryptResult> DecryptArchiveFileCoreAsync(string archivePath, string outputPath, IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(archivePath);
        if (!File.Exists(archivePath))
        {
            throw new SbkException(SbkErrorKind.NotFound, $"There is no archive file at {archivePath}.");
        }

        var what = $"The archive file {archivePath}";
        var clock = Stopwatch.StartNew();
        await using var source = new ObservedStream(File.OpenRead(archivePath));
        var header = await ArchiveHeader.ReadAsync(source, what, cancellationToken).ConfigureAwait(false);
        var master = await keys.GetAsync(header.Envelope.KekName, header.Envelope.KekVersion, cancellationToken).ConfigureAwait(false);
        using var key = BackupKey.Open(header.Envelope, master);
        var payload = Decoded(key.CreateArchiveReader(source, header, what), header.Encoding);

        await using var plain = new ObservedStream(payload, what: what);
        var bytes = await WriteAtomicallyAsync(outputPath, partial => PlaintextFile.WriteAsync(plain, partial, durable: true,
            n => progress?.Report(new WorkProgress(WorkPhase.Decrypting, source.BytesRead, n, clock.Elapsed)), cancellationToken)).ConfigureAwait(false);
        progress?.Report(new WorkProgress(WorkPhase.Done, source.BytesRead, bytes, clock.Elapsed));
        return new DecryptResult(key.Envelope.BackupId, outputPath, bytes, ManifestChecked: false);
    }

    /// <summary>The pg_dump archive inside a decrypted payload: zstd frames decompressed on every core, gzip members in sequence, plain as is.</summary>
    private static Stream Decoded(Stream payload, PayloadEncoding encoding) => encoding switch
    {
        PayloadEncoding.ZstdFrames => new ZstdFramesReader(payload, Math.Max(2, Environment.ProcessorCount * 2)),
        PayloadEncoding.GzipMembers => new GZipStream(payload, CompressionMode.Decompress),
        _ => payload,
    };

    /// <summary>Writes through a partial file beside <paramref name="outputPath"/>, renamed into place only when <paramref name="write"/> succeeded; removed otherwise.</summary>
    private static async Task<long> WriteAtomicallyAsync(string outputPath, Func<string, Task<long>> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        var full = Path.GetFullPath(outputPath);
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
        {
            throw new SbkException(SbkErrorKind.Configuration, $"The output directory {directory} does not exist.");
        }

        if (Directory.Exists(full))
        {
            throw new SbkException(SbkErrorKind.Configuration, $"The output {full} is a directory; give the path of the file to write, e.g. {Path.Combine(full, "backup.dump")}.");
        }

        var partial = Path.Combine(directory, $".{Path.GetFileName(full)}.partial-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        try
        {
            var written = await write(partial).ConfigureAwait(false);
            File.Move(partial, full, overwrite: true);
            return written;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException || (ex is IOException && ex.Message.Contains(partial, StringComparison.Ordinal)))
        {
            // A directory sbk may not write in, a full disk: said of the file asked for, not of the partial one.
            var reason = ex is UnauthorizedAccessException ? "permission denied" : ex.Message.Replace(partial, full, StringComparison.Ordinal).TrimEnd('.');
            throw new SbkException(SbkErrorKind.Failed, $"Cannot write {full}: {reason}. Nothing was left there.", isTransient: false, ex);
        }
        finally
        {
            File.Delete(partial);
        }
    }

    private async Task<Manifest> ReadManifestAsync(string database, string backupId, CancellationToken cancellationToken)
    {
        await using var stream = await store.OpenReadAsync(BackupLayout.Manifest(database, backupId), cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        var manifest = ManifestCodec.ReadClear(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        if (manifest is null || manifest.BackupId != backupId || manifest.Database != database)
        {
            throw new IntegrityException($"The manifest of backup {backupId} ({database}) is not a valid manifest for that backup: it was altered or moved.");
        }

        return manifest;
    }

    private async Task<BackupKey> OpenKeyAsync(Manifest manifest, CancellationToken cancellationToken)
    {
        var envelope = ManifestCodec.Envelope(manifest);
        var master = await keys.GetAsync(envelope.KekName, envelope.KekVersion, cancellationToken).ConfigureAwait(false);
        return BackupKey.Open(envelope, master);
    }
}
