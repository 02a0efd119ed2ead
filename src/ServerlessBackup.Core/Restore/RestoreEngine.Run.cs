using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Backups;
using ServerlessBackup.Dump;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Restore;

public sealed partial class RestoreEngine
{
    /// <summary>One pg_restore run: where from, where to, what.</summary>
    private sealed record RunPlan(string Database, string BackupId, PgToolVersion Tool, IReadOnlyList<(string Schema, string Name)> Tables, bool DataOnly, int Jobs, IReadOnlyList<string> Tolerated)
    {
        public PgConnectionInfo? Connection { get; init; }

        /// <summary>The database name on the target server.</summary>
        public string Target { get; init; } = string.Empty;

        /// <summary>The target is new and empty.</summary>
        public bool Fresh { get; init; }

        /// <summary>Drop objects before recreating them (restores into an existing database).</summary>
        public bool Clean { get; init; }

        /// <summary>Download and authenticate the whole archive before pg_restore starts.</summary>
        public bool LandFirst { get; init; }

        /// <summary>One transaction (an existing database changed in place): any error undoes everything.</summary>
        public bool OneTransaction { get; init; }

        /// <summary>Keep the archive's grants (a database on its own server, where its roles exist); scratch copies drop them.</summary>
        public bool KeepPrivileges { get; init; }

        /// <summary>The target exists once this completes: a new scratch database is created while the archive opens.</summary>
        public Task Ready { get; init; } = Task.CompletedTask;
    }

    private sealed record RunOutcome(int ExitCode, PgRestoreMessages Messages, long Bytes, TimeSpan Download, TimeSpan Decrypt, TimeSpan Restore)
    {
        public bool Succeeded => Messages.ErrorCount == 0 && (ExitCode == 0 || Messages.ToleratedCount > 0);
    }

    private async Task<RunOutcome> RunAsync(RunPlan plan, IProgress<WorkProgress>? progress, Stopwatch clock, CancellationToken cancellationToken)
    {
        string? temp = null;
        try
        {
            var arguments = new List<string> { "--no-owner", "--no-password", "--dbname=" + plan.Target };
            if (!plan.KeepPrivileges)
            {
                arguments.Add("--no-privileges");
            }

            if (plan.OneTransaction)
            {
                arguments.Add("--single-transaction");
            }
            if (plan.Clean)
            {
                arguments.Add("--clean");
                arguments.Add("--if-exists");
            }

            if (plan.DataOnly)
            {
                arguments.Add("--data-only");
            }

            if (plan.Tables.Count > 0)
            {
                temp = CreateWorkDirectory();
                var listing = await ReadTocAsync(plan.Database, plan.BackupId, plan.Tool, drain: false, cancellationToken).ConfigureAwait(false);
                var (list, found) = plan.Fresh ? TocFilter.ForFreshDatabase(listing.Toc, plan.Tables) : TocFilter.DataOnly(listing.Toc, plan.Tables);
                if (found != plan.Tables.Count)
                {
                    throw new SbkException(SbkErrorKind.Failed,
                        $"Backup {plan.BackupId} ({plan.Database}) lists {plan.Tables.Count} of the requested tables in its census but pg_restore found data for {found} of them in the archive; restore the whole backup instead.");
                }

                var listFile = Path.Combine(temp, "restore.list");
                await File.WriteAllTextAsync(listFile, list, cancellationToken).ConfigureAwait(false);
                arguments.Add("--use-list=" + listFile);
            }

            await using var archive = await backups.OpenArchiveAsync(plan.Database, plan.BackupId, cancellationToken).ConfigureAwait(false);
            if (!CanOverlap(plan))
            {
                await plan.Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            // What pg_restore reads, whichever way: the archive with its rows in large chunks.
            var joined = new ArchiveChunkJoiner(archive.Stream);
            void Report(WorkPhase phase, long written) => progress?.Report(new WorkProgress(phase, archive.StoredBytesRead, written, clock.Elapsed));

            // pg_restore -j needs a seekable file; a real target must not change before every byte authenticated.
            var lands = CanOverlap(plan) || plan.Jobs > 1 || plan.LandFirst;
            if (lands)
            {
                temp ??= CreateWorkDirectory();
                EnsureRoomToLand(temp, archive.Details.Manifest.Archive.DumpLength, plan);
            }

            if (CanOverlap(plan))
            {
                void ReportTables(WorkProgress p) => progress?.Report(p with { Elapsed = clock.Elapsed });
                return await LandingAsync(temp!, plan, () => RunOverlappedAsync(plan, arguments, archive, joined, Path.Combine(temp!, "archive.dump"), ReportTables, cancellationToken)).ConfigureAwait(false);
            }

            if (lands)
            {
                var local = Path.Combine(temp!, "archive.dump");

                // Landing fills in the data offsets a piped dump lacks, or every pg_restore -j worker scans the file from the top.
                await LandingAsync(temp!, plan, () => ArchiveLanding.LandAsync(joined, local, _ => Report(WorkPhase.Downloading, archive.PlainBytesRead), null, null, null, cancellationToken)).ConfigureAwait(false);
                archive.VerifyComplete();
                if (plan.Jobs > 1)
                {
                    arguments.Add("--jobs=" + plan.Jobs.ToString(CultureInfo.InvariantCulture));
                }

                arguments.Add(local);
                var restoreClock = Stopwatch.StartNew();
                using var process = PgRestoreProcess.Start(plan.Tool, arguments, plan.Connection, plan.Target, plan.Tolerated);
                process.CloseInput();
                Report(WorkPhase.Restoring, archive.PlainBytesRead);
                var exit = await WaitReportingAsync(process, () => Report(WorkPhase.Restoring, archive.PlainBytesRead), cancellationToken).ConfigureAwait(false);
                return new RunOutcome(exit, process.Messages, archive.PlainBytesRead, archive.DownloadTime, archive.DecryptTime, restoreClock.Elapsed);
            }
            else
            {
                var restoreClock = Stopwatch.StartNew();
                using var process = PgRestoreProcess.Start(plan.Tool, arguments, plan.Connection, plan.Target, plan.Tolerated);
                try
                {
                    Report(WorkPhase.Restoring, 0);
                    if (await process.FeedAsync(joined, _ => Report(WorkPhase.Restoring, archive.PlainBytesRead), cancellationToken).ConfigureAwait(false))
                    {
                        archive.VerifyComplete();
                    }

                    var (exit, _) = await process.WaitAsync(cancellationToken).ConfigureAwait(false);
                    return new RunOutcome(exit, process.Messages, archive.PlainBytesRead, archive.DownloadTime, archive.DecryptTime, restoreClock.Elapsed);
                }
                catch
                {
                    process.Kill();
                    throw;
                }
            }
        }
        finally
        {
            if (temp is not null)
            {
                Directory.Delete(temp, recursive: true);
            }
        }
    }

    /// <summary>
    /// A new owner-only directory for a restore's list file and local archive copy, removed by the
    /// caller. It names its process (<c>owner.pid</c>), so that the directories of processes that
    /// were killed before they could clean up are removed by the next restore.
    /// </summary>
    private string CreateWorkDirectory()
    {
        var root = options.Scratch.TempDirectory is { } configured ? Path.GetFullPath(configured) : Path.GetTempPath();
        if (!Directory.Exists(root))
        {
            throw new SbkException(SbkErrorKind.Configuration, File.Exists(root)
                ? $"The directory for restore files ({root}, Scratch:TempDirectory) is a file, not a directory. Point the setting at a directory."
                : $"The directory for restore files ({root}, Scratch:TempDirectory) does not exist. Create it or change the setting.");
        }

        var path = Path.Combine(root, "sbk-restore-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
        try
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(path);
            }
            else
            {
                Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            File.WriteAllText(Path.Combine(path, OwnerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }

            throw new SbkException(SbkErrorKind.Configuration,
                $"sbk could not make its directory for restore files in {root} (Scratch:TempDirectory): {(ex is IOException io && DiskFull.Is(io) ? "the disk is full." : ex.Message)} Point the setting at a directory sbk may write to, on a disk with room for the decrypted archive.", false, ex);
        }

        RemoveAbandonedWorkDirectories(root, path);
        return path;
    }

    private const string OwnerFile = "owner.pid";

    /// <summary>
    /// Refuses, before anything is downloaded, a landing that cannot fit: the decrypted archive (its
    /// size is in the manifest) is written to the restore directory first.
    /// </summary>
    private static void EnsureRoomToLand(string directory, long bytes, RunPlan plan)
    {
        long free;
        try
        {
            free = new DriveInfo(directory).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return; // Not known here: a full disk is still reported as it happens (LandingAsync).
        }

        if (free < bytes + (64L << 20))
        {
            throw new SbkException(SbkErrorKind.Configuration, $"{Landing(plan)} needs {MiB(bytes)} for the decrypted archive in {Path.GetDirectoryName(directory)}, which has {MiB(free)} free. {MakeRoom(plan)} Nothing was changed.");
        }
    }

    /// <summary>Runs a landing, turning a disk that fills up meanwhile into an error that says where and what to do.</summary>
    private static async Task<T> LandingAsync<T>(string directory, RunPlan plan, Func<Task<T>> land)
    {
        try
        {
            return await land().ConfigureAwait(false);
        }
        catch (IOException ex) when (DiskFull.Is(ex))
        {
            throw new SbkException(SbkErrorKind.Failed, $"{Landing(plan)} ran out of space in {Path.GetDirectoryName(directory)} while writing the decrypted archive; it was removed and the restore undone. {MakeRoom(plan)}", isTransient: false, ex);
        }
    }

    private static string Landing(RunPlan plan) => $"Restoring backup {plan.BackupId} ({plan.Database}){(plan.Jobs > 1 ? $" with --jobs {plan.Jobs.ToString(CultureInfo.InvariantCulture)}" : string.Empty)}";

    private static string MakeRoom(RunPlan plan) =>
        "Free space there or point Scratch:TempDirectory at a directory on a larger disk" + (plan.LandFirst ? "." : ", or restore with --jobs 1, which streams the archive into pg_restore and writes nothing locally.");

    private static string MiB(long bytes) => (bytes / 1048576.0).ToString("N0", CultureInfo.InvariantCulture) + " MiB";

    /// <summary>Removes the work directories of sbk processes that no longer run (killed before their cleanup): they may hold a decrypted archive.</summary>
    private void RemoveAbandonedWorkDirectories(string root, string mine)
    {
        foreach (var directory in Directory.EnumerateDirectories(root, "sbk-restore-*"))
        {
            if (directory == mine)
            {
                continue;
            }

            try
            {
                var owner = Path.Combine(directory, OwnerFile);
                var abandoned = File.Exists(owner)
                    ? int.TryParse(File.ReadAllText(owner), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !IsRunning(pid)
                    : Directory.GetLastWriteTimeUtc(directory) < DateTime.UtcNow.AddDays(-1);
                if (abandoned)
                {
                    Directory.Delete(directory, recursive: true);
                    logger.LogInformation("Removed {Directory}, left by a restore whose process was killed", directory);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Another user's, or being removed by its owner: not ours to insist on.
            }
        }

        static bool IsRunning(int pid)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                return !process.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }
    }

    private static async Task<int> WaitReportingAsync(PgRestoreProcess process, Action report, CancellationToken cancellationToken)
    {
        var wait = process.WaitAsync(cancellationToken);
        while (await Task.WhenAny(wait, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken)).ConfigureAwait(false) != wait)
        {
            report();
        }

        return (await wait.ConfigureAwait(false)).ExitCode;
    }

    /// <summary>
    /// Feeds the archive to <c>pg_restore --list</c>, which reads only its table of contents. With
    /// <paramref name="drain"/>, the rest is then read too, so that every chunk authenticates and
    /// the whole object is checked against the manifest.
    /// </summary>
    private async Task<(string Toc, int Entries, ArchiveCheck Check)> ReadTocAsync(string database, string backupId, PgToolVersion tool, bool drain, CancellationToken cancellationToken)
    {
        await using var archive = await backups.OpenArchiveAsync(database, backupId, cancellationToken).ConfigureAwait(false);
        using var process = PgRestoreProcess.Start(tool, ["--list"], null, null, [], keepStdout: true);
        int exit;
        string toc;
        try
        {
            var fedAll = await process.FeedAsync(archive.Stream, null, cancellationToken).ConfigureAwait(false);
            (exit, toc) = await process.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (drain)
            {
                if (!fedAll)
                {
                    await archive.DrainAsync(cancellationToken).ConfigureAwait(false);
                }

                archive.VerifyComplete();
            }
        }
        catch
        {
            process.Kill();
            throw;
        }

        if (exit != 0)
        {
            var m = process.Messages;
            throw new SbkException(SbkErrorKind.Failed,
                $"pg_restore --list cannot read backup {backupId} ({database}), although every chunk of it that was read authenticated: {string.Join(" | ", m.FirstErrors.Concat([m.Other.Trim()]).Where(s => s.Length > 0))}. The archive was written by a pg_dump this pg_restore ({tool.Version}) does not understand, or written wrongly.");
        }

        var entries = toc.Split('\n').Count(line => line.Length > 0 && char.IsAsciiDigit(line[0]));
        return (toc, entries, new ArchiveCheck(archive.StoredBytesRead, archive.PlainBytesRead, archive.DownloadTime, archive.DecryptTime));
    }

    private sealed record ArchiveCheck(long StoredBytes, long PlainBytes, TimeSpan Download, TimeSpan Decrypt);
}
