using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Catalog;
using ServerlessBackup.Compression;
using ServerlessBackup.Crypto;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Dump;
using ServerlessBackup.Errors;
using ServerlessBackup.Secrets;
using ServerlessBackup.Storage;

namespace ServerlessBackup.Backups;

public sealed partial class BackupEngine
{
    /// <summary>
    /// Backs up a catalogued database: preflight (keys, secret, server, privileges, pg_dump
    /// version) before anything is written; then one writer per database, a consistent snapshot
    /// shared by the census and pg_dump, a streamed pipeline pg_dump → compression → encryption →
    /// store in bounded memory; the archive is committed, then the manifest. On any failure
    /// nothing is listed: there is no manifest, and a committed archive without one is removed.
    /// </summary>
    /// <exception cref="SbkException">With a message naming the database and the next step.</exception>
    /// <remarks>
    /// The one way a backup is taken, whoever asks (the command line, run-due, the API, the
    /// emergency backup before a restore): every attempt is recorded beside the backups (status
    /// reads it), and a failure is logged with <c>[sbk.backup-failed]</c> and announced to the team.
    /// </remarks>
    /// <exception cref="CancelledException">Cancelled: pg_dump was stopped and nothing was stored.</exception>
    public Task<Manifest> BackupAsync(string database, string? label = null, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default) =>
        CancelledException.SayingAsync(BackupAsync(database, label, progress, null, cancellationToken),
            $"The backup of '{database}' stopped: pg_dump was stopped and nothing was stored (the unfinished upload was discarded).", cancellationToken);

    /// <summary>
    /// Takes the lock that one backup, restore or swap of <paramref name="database"/> at a time
    /// holds (in the store, so it spans processes and hosts).
    /// </summary>
    /// <exception cref="SbkException">AlreadyRunning: another backup, restore or swap of it holds the lock.</exception>
    internal async Task<IStoreLock> LockDatabaseAsync(string database, CancellationToken cancellationToken)
    {
        await store.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return await store.TryAcquireLockAsync(BackupLayout.Lock(database), cancellationToken).ConfigureAwait(false)
            ?? throw new SbkException(SbkErrorKind.AlreadyRunning,
                $"A backup, restore or swap of database '{database}' is already running (its lock in {store.Description} is held). Wait for it to finish and try again; a lock left by a killed process expires within a minute.", isTransient: true);
    }

    /// <summary>The database's lock if it is free now, or null while a backup, restore or swap of it holds it.</summary>
    internal async Task<IStoreLock?> TryLockDatabaseAsync(string database, CancellationToken cancellationToken) =>
        await store.TryAcquireLockAsync(BackupLayout.Lock(database), cancellationToken).ConfigureAwait(false);

    /// <summary>A backup under a lock the caller already holds (a restore's emergency backup), or its own; recorded and announced.</summary>
    internal async Task<Manifest> BackupAsync(string database, string? label, IProgress<WorkProgress>? progress, IStoreLock? heldLock, CancellationToken cancellationToken)
    {
        var entry = ResolveDatabase(database);
        if (label is not null && !IsValidLabel(label))
        {
            // A mistyped request, not a failed backup: nothing is recorded and nobody is paged.
            throw new SbkException(SbkErrorKind.Configuration, $"The label '{Sanitize(label)}' is not valid: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit. Nothing was backed up.");
        }

        try
        {
            var manifest = await TakeBackupAsync(database, entry, label, progress, heldLock, cancellationToken).ConfigureAwait(false);
            await RecordAttemptAsync(database, new BackupAttempt(time.GetUtcNow(), true, manifest.BackupId, null)).ConfigureAwait(false);
            return manifest;
        }
        catch (Exception ex) when (ex is not OperationCanceledException && ex is not SbkException { Kind: SbkErrorKind.AlreadyRunning })
        {
            // Every failure counts, not only the engine's own: status must say FAILING after an I/O error too.
            var kind = ex is SbkException sbk ? sbk.Kind.ToString() : "Failed";
            // The marker is what the deployment's "backup failed" alert searches for (infra/modules/monitoring.bicep).
            logger.LogError("[sbk.backup-failed] Backup of {Database} failed ({Kind}): {Message}", database, kind, SecretRedactor.Redact(ex.Message));
            await RecordAttemptAsync(database, new BackupAttempt(time.GetUtcNow(), false, null, kind)).ConfigureAwait(false);
            if (notifier is not null)
            {
                await notifier.NotifyAsync(new Notify.Notification("backup-failed", database, $"Backup of '{database}' failed",
                    SecretRedactor.Redact(ex is SbkException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}"), $"sbk backup {database}", time.GetUtcNow()), CancellationToken.None).ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>The newest attempt to back up <paramref name="database"/>, when its record authenticates (a forged "succeeded" or "failed" steers nothing).</summary>
    public async Task<BackupAttempt?> ReadLastAttemptAsync(string database, CancellationToken cancellationToken = default)
    {
        var read = await store.ReadSignedJsonAsync<BackupAttempt>(signer, BackupLayout.LastAttempt(database), cancellationToken).ConfigureAwait(false);
        if (read.Problem is { } problem)
        {
            logger.LogWarning("[sbk.untrusted-object] {Problem}", problem);
        }

        return read.Trusted ? read.Value : null;
    }

    private async Task RecordAttemptAsync(string database, BackupAttempt attempt)
    {
        try
        {
            await store.WriteSignedJsonAsync(signer, BackupLayout.LastAttempt(database), attempt, overwrite: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SbkException or IOException)
        {
            // The backup's own outcome is what the caller needs; a store that refuses this small write will say so again.
            logger.LogWarning("Could not record the backup attempt of {Database}: {Message}", database, SecretRedactor.Redact(ex.Message));
        }
    }

    private async Task<Manifest> TakeBackupAsync(string database, DatabaseOptions entry, string? label, IProgress<WorkProgress>? progress, IStoreLock? heldLock, CancellationToken cancellationToken)
    {

        var clock = Stopwatch.StartNew();
        void Report(WorkPhase phase, long source, long stored) => progress?.Report(new WorkProgress(phase, source, stored, clock.Elapsed));
        Report(WorkPhase.Preflight, 0, 0);

        // Everything that can be wrong is checked before the store is touched.
        var master = await keys.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        var secretName = entry.ConnectionStringSecret!;
        SecretValue connectionSecret;
        try
        {
            connectionSecret = await secrets.GetSecretAsync(secretName, null, cancellationToken).ConfigureAwait(false);
        }
        catch (SbkException ex) when (ex.Kind == SbkErrorKind.NotFound)
        {
            throw new SbkException(SbkErrorKind.Configuration, $"Database '{database}' names the secret '{secretName}' for its connection string, but it is not in {secrets.Description}. Store the connection string there; nothing was uploaded.", false, ex);
        }

        var connection = PgConnectionInfo.FromSecret(connectionSecret);
        await using var session = await SourceSession.OpenAsync(database, connection, secretName, options.Dump.LockWaitTimeoutSeconds, cancellationToken).ConfigureAwait(false);
        var pgDump = await PgToolLocator.SelectAsync("pg_dump", options.Dump.PgDumpPath, "Dump:PgDumpPath", session.Server.Major,
            $"The server for database '{database}' runs PostgreSQL {session.Server.Major} and pg_dump must be at least as new as the server", cancellationToken).ConfigureAwait(false);

        await using var ownLock = heldLock is null ? await LockDatabaseAsync(database, cancellationToken).ConfigureAwait(false) : null;
        var writerLock = heldLock ?? ownLock!;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, writerLock.Lost);
        var token = linked.Token;

        var startedAt = time.GetUtcNow();
        var backupId = BackupId.New(startedAt);
        using var key = BackupKey.Create(master, backupId);
        var archiveKey = BackupLayout.Archive(database, backupId);
        var encoding = options.Dump.Compression switch
        {
            CompressionMode.Zstd => PayloadEncoding.ZstdFrames,
            CompressionMode.Parallel => PayloadEncoding.GzipMembers,
            _ => PayloadEncoding.Plain,
        };
        logger.LogInformation("Backing up {Database} as {BackupId} with pg_dump {PgDumpVersion} (server {ServerVersion})", database, backupId, pgDump.Version, session.Server.Version);

        Census census;
        string dumpMessages;
        long dumpLength;
        ObjectInfo archive;
        ArchiveHeader header;
        byte[] sha256;
        await using (var writer = await store.OpenWriteAsync(archiveKey, token).ConfigureAwait(false))
        await using (var encryptor = key.CreateArchiveWriter(writer, options.Dump.ChunkSizeKiB * 1024, encoding))
        {
            header = encryptor.Header;
            using var dump = PgDumpProcess.Start(pgDump, connection, session.SnapshotId, options.Dump.LockWaitTimeoutSeconds, options.Dump.Compression == CompressionMode.PgDump);
            var censusTask = session.TakeCensusAsync(entry.Census, token);
            try
            {
                Report(WorkPhase.Dumping, 0, 0);
                await using var output = new ObservedStream(dump.Output, read => Report(WorkPhase.Dumping, read, encryptor.CiphertextLength));
                if (encoding is PayloadEncoding.GzipMembers or PayloadEncoding.ZstdFrames)
                {
                    using var codec = encoding == PayloadEncoding.ZstdFrames ? new ZstdFrames(options.Dump.EffectiveCompressionLevel) : (IBlockCodec)new GzipMembers(options.Dump.EffectiveCompressionLevel);
                    await ParallelBlocks.CompressAsync(output, encryptor, codec, Math.Max(2, Environment.ProcessorCount * 2), token).ConfigureAwait(false);
                }
                else
                {
                    await output.CopyToAsync(encryptor, 1 << 20, token).ConfigureAwait(false);
                }

                var (exitCode, messages) = await dump.WaitAsync(token).ConfigureAwait(false);
                dumpLength = output.BytesRead;
                if (exitCode != 0)
                {
                    throw DumpFailed(database, connection, exitCode, messages);
                }

                if (dumpLength < 5 || !output.Head.StartsWith("PGDMP"u8))
                {
                    throw new SbkException(SbkErrorKind.Failed, $"pg_dump for database '{database}' exited successfully but wrote {dumpLength} bytes that are not a custom-format archive; the backup was discarded. pg_dump said: {Shorten(messages)}");
                }

                dumpMessages = messages;
                census = await censusTask.ConfigureAwait(false);
                await encryptor.CompleteAsync(token).ConfigureAwait(false);
                Report(WorkPhase.Committing, dumpLength, encryptor.CiphertextLength);
                sha256 = encryptor.CiphertextSha256!;
                archive = await writer.CommitAsync(new Dictionary<string, string> { ["backupid"] = backupId, ["role"] = BackupKey.ArchiveRole }, token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                dump.Kill();
                try
                {
                    await censusTask.ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // The first failure is the one to report.
                }

                if (ex is OperationCanceledException && writerLock.Lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new SbkException(SbkErrorKind.Failed, $"The backup of database '{database}' lost its lock in {store.Description} (the lease could not be renewed) and was abandoned; nothing was listed. Try again.", isTransient: true, ex);
                }

                throw;
            }
        }

        var manifest = new Manifest
        {
            BackupId = backupId,
            Database = database,
            Label = label,
            StartedAt = startedAt,
            CompletedAt = time.GetUtcNow(),
            SnapshotTime = session.SnapshotTime,
            SnapshotShared = session.SnapshotId is not null,
            Archive = new ManifestArchive(archiveKey, archive.Length, Convert.ToHexStringLower(sha256), header.ChunkSize, encoding.ToString(), dumpLength),
            Source = new ManifestSource(session.Server.Version, pgDump.Version),
            Key = StoredKey.From(key.Envelope),
            Warnings = session.Warning is null ? [] : [session.Warning],
        };
        var manifestBytes = ManifestCodec.Write(manifest, new ManifestPrivate(census, Convert.ToHexStringLower(header.Hash), dumpMessages.Length == 0 ? null : dumpMessages), key);
        var manifestKey = BackupLayout.Manifest(database, backupId);
        try
        {
            if (!await store.PutAsync(manifestKey, manifestBytes, overwrite: false, await SignedListingAsync(manifestKey, manifest, token).ConfigureAwait(false), token).ConfigureAwait(false))
            {
                throw new SbkException(SbkErrorKind.Failed, $"A manifest for backup {backupId} of '{database}' already exists; this should never happen. Nothing was overwritten.");
            }
        }
        catch (Exception ex)
        {
            // The answer to the manifest write may be lost while the write itself landed: look before deleting anything.
            switch (await ManifestLandedAsync(manifestKey, manifestBytes).ConfigureAwait(false))
            {
                case true:
                    logger.LogInformation("The manifest of backup {BackupId} of {Database} was stored although its write reported {Error}; the backup is complete", backupId, database, ex.GetType().Name);
                    break;
                case false:
                    // No manifest, no backup: do not leave an orphan archive behind (the next prune would sweep it anyway).
                    await store.DeleteAsync(archiveKey, CancellationToken.None).ConfigureAwait(false);
                    throw;
                default:
                    // Unknown: keep the archive; if no manifest appears, prune sweeps it after Retention:OrphanSafetyHours.
                    throw;
            }
        }

        Report(WorkPhase.Done, dumpLength, archive.Length);
        logger.LogInformation("Backup {BackupId} of {Database} committed: {Bytes} bytes stored", backupId, database, archive.Length);
        return manifest;
    }

    private static SbkException DumpFailed(string database, PgConnectionInfo connection, int exitCode, string messages)
    {
        // pg_dump applies --lock-wait-timeout as a statement timeout on its LOCK TABLE statements.
        if (messages.Contains("lock timeout", StringComparison.OrdinalIgnoreCase) || messages.Contains("could not obtain lock", StringComparison.OrdinalIgnoreCase)
            || (messages.Contains("statement timeout", StringComparison.OrdinalIgnoreCase) && messages.Contains("LOCK TABLE", StringComparison.OrdinalIgnoreCase)))
        {
            return new SbkException(SbkErrorKind.Failed,
                $"pg_dump for database '{database}' could not lock a table within the lock wait timeout: another session holds a conflicting lock. Nothing was stored. Try again later or raise Dump:LockWaitTimeoutSeconds. pg_dump said: {Shorten(messages)}", isTransient: true);
        }

        if (messages.Contains("password authentication failed", StringComparison.OrdinalIgnoreCase))
        {
            return new SbkException(SbkErrorKind.Configuration, $"pg_dump could not log in to database '{database}' ({connection.Describe()}). Check the connection string secret. Nothing was stored.");
        }

        return new SbkException(SbkErrorKind.Failed,
            $"pg_dump for database '{database}' failed (exit code {exitCode.ToString(CultureInfo.InvariantCulture)}); nothing was stored. pg_dump said: {Shorten(messages)}");
    }

    private static string Shorten(string messages)
    {
        if (string.IsNullOrWhiteSpace(messages))
        {
            return "(nothing)";
        }

        var lines = messages.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(" | ", lines.Length > 6 ? lines[^6..] : lines);
    }

    /// <summary>Whether the manifest at <paramref name="key"/> is exactly <paramref name="bytes"/> (true), absent (false), or unknown (null: unreadable, or something else is there).</summary>
    private async Task<bool?> ManifestLandedAsync(string key, byte[] bytes)
    {
        try
        {
            if (await store.GetInfoAsync(key, CancellationToken.None).ConfigureAwait(false) is null)
            {
                return false;
            }

            await using var stream = await store.OpenReadAsync(key, CancellationToken.None).ConfigureAwait(false);
            using var memory = new MemoryStream();
            await stream.CopyToAsync(memory, CancellationToken.None).ConfigureAwait(false);
            return memory.ToArray().AsSpan().SequenceEqual(bytes) ? true : null;
        }
        catch (Exception ex) when (ex is SbkException or IOException)
        {
            return null;
        }
    }

    /// <summary>The manifest's listing metadata, signed (<c>sig</c>) so that a forged start time or size is never believed.</summary>
    private async Task<Dictionary<string, string>> SignedListingAsync(string manifestKey, Manifest manifest, CancellationToken cancellationToken)
    {
        var metadata = ListingMetadata(manifest);
        metadata["sig"] = await signer.SignAsync(manifestKey, StateSigner.Fields(metadata), cancellationToken).ConfigureAwait(false);
        return metadata;
    }

    internal static Dictionary<string, string> ListingMetadata(Manifest m)
    {
        var metadata = new Dictionary<string, string>
        {
            ["backupid"] = m.BackupId,
            ["startedat"] = m.StartedAt.ToString("O", CultureInfo.InvariantCulture),
            ["snapshottime"] = m.SnapshotTime.ToString("O", CultureInfo.InvariantCulture),
            ["archivelength"] = m.Archive.Length.ToString(CultureInfo.InvariantCulture),
            ["dumplength"] = m.Archive.DumpLength.ToString(CultureInfo.InvariantCulture),
        };
        if (m.Label is not null)
        {
            metadata["label"] = m.Label;
        }

        return metadata;
    }
}
