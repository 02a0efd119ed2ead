using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Backups;

namespace ServerlessBackup.Restore;

public sealed partial class RestoreEngine
{
    /// <summary>
    /// Whether a run may restore tables while the archive is still landing: several jobs, the whole
    /// backup, into a new empty database that is dropped if anything fails (a scratch copy). A
    /// restore that must authenticate every byte before it changes anything (LandFirst), or that
    /// runs in one transaction, or only some tables or only data, lands first as before.
    /// </summary>
    private static bool CanOverlap(RunPlan plan) =>
        plan.Jobs > 1 && plan.Fresh && !plan.LandFirst && !plan.OneTransaction && !plan.Clean && !plan.DataOnly && plan.Tables.Count == 0;

    /// <summary>
    /// A parallel restore that does not wait for the whole archive: as it lands, the schema is
    /// created (<c>--section=pre-data</c>) as soon as the table of contents is in, and each table's
    /// data is loaded by one of <see cref="RunPlan.Jobs"/> pg_restore processes as soon as its block
    /// is whole (its offset written into the landed copy's table of contents, so pg_restore goes
    /// straight to it). Once everything has landed and authenticated, what had no block (sequence
    /// values) or was not found is restored, then indexes, constraints and triggers
    /// (<c>--section=post-data</c>, in parallel). The outcome is that of one pg_restore: errors of every
    /// process counted together. An archive this does not understand is restored as before, from
    /// the whole landed copy.
    /// </summary>
    private async Task<RunOutcome> RunOverlappedAsync(RunPlan plan, List<string> common, ArchivePlaintext archive, string local, Action<WorkPhase, long> report, CancellationToken cancellationToken)
    {
        var restoreClock = Stopwatch.StartNew();
        var messages = new PgRestoreMessages(plan.Tolerated);
        var exitCode = 0;
        var running = new List<PgRestoreProcess>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // pg_restore, to completion; its messages join the restore's.
        async Task RunOneAsync(IEnumerable<string> extra)
        {
            var arguments = common.Concat(extra).Append(local).ToList();
            using var process = PgRestoreProcess.Start(plan.Tool, arguments, plan.Connection, plan.Target, plan.Tolerated);
            lock (running)
            {
                running.Add(process);
            }

            try
            {
                process.CloseInput();
                var (exit, _) = await process.WaitAsync(stop.Token).ConfigureAwait(false);
                lock (messages)
                {
                    messages.Absorb(process.Messages);
                    exitCode = Math.Max(exitCode, exit);
                }
            }
            finally
            {
                lock (running)
                {
                    running.Remove(process);
                }
            }
        }

        string ListFile(string name, IEnumerable<int> ids)
        {
            var path = Path.Combine(Path.GetDirectoryName(local)!, name);
            File.WriteAllLines(path, ids.Select(id => id.ToString(CultureInfo.InvariantCulture) + ";"));
            return "--use-list=" + path;
        }

        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.ReadWrite };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (new FileStream(local, create))
        {
            // Created empty and owner-only; written below by offset, while pg_restore processes read it.
        }

        using var handle = File.OpenHandle(local, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        IReadOnlyList<ArchiveOffsets.TocEntry>? toc = null;
        var offSize = 8;
        var tocIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blocks = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var loaded = new HashSet<int>();
        var scanner = new ArchiveBlockScanner(
            (entries, size) =>
            {
                toc = entries;
                offSize = size;
                tocIn.TrySetResult();
            },
            (dumpId, start) =>
            {
                // Every byte the scanner has seen is already in the file: say where this block starts, then hand it out.
                if (toc!.FirstOrDefault(e => e.DumpId == dumpId) is { HasData: true } entry)
                {
                    if (entry.Flag == ArchiveOffsets.OffsetNotSet)
                    {
                        RandomAccess.Write(handle, ArchiveOffsets.SlotBytes(start, offSize), entry.Slot);
                    }

                    blocks.Writer.TryWrite(dumpId);
                }
            });

        // Loads the data of each block as it is whole, on up to Jobs processes, once the schema is in.
        async Task LoadAsync()
        {
            await tocIn.Task.WaitAsync(stop.Token).ConfigureAwait(false);
            await RunOneAsync(["--section=pre-data"]).ConfigureAwait(false);
            var loads = new List<Task>();
            await foreach (var dumpId in blocks.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                if (loads.Count >= plan.Jobs)
                {
                    var done = await Task.WhenAny(loads).ConfigureAwait(false);
                    loads.Remove(done);
                    await done.ConfigureAwait(false);
                }

                loaded.Add(dumpId);
                loads.Add(RunOneAsync(["--section=data", ListFile($"data-{dumpId}.list", [dumpId])]));
            }

            await Task.WhenAll(loads).ConfigureAwait(false);
        }

        var loading = LoadAsync();
        try
        {
            var buffer = new byte[1 << 20];
            long written = 0;
            int n;
            while ((n = await archive.Stream.ReadAsync(buffer, stop.Token).ConfigureAwait(false)) > 0)
            {
                await RandomAccess.WriteAsync(handle, buffer.AsMemory(0, n), written, stop.Token).ConfigureAwait(false);
                scanner.Push(buffer.AsSpan(0, n));
                written += n;
                report(WorkPhase.Restoring, written);
                if (loading.IsFaulted)
                {
                    break;
                }
            }

            if (!loading.IsFaulted)
            {
                archive.VerifyComplete();
            }

            blocks.Writer.TryComplete();
            if (toc is null)
            {
                // Not an archive this follows: restore it whole, as pg_restore -j would.
                tocIn.TrySetCanceled(CancellationToken.None);
                await Task.WhenAny(loading).ConfigureAwait(false);
                var filled = ArchiveOffsets.FillIn(local);
                logger.LogInformation("The archive of {Database} backup {BackupId} is not one sbk can follow as it lands; restoring it whole ({Filled} data offsets filled in)", plan.Database, plan.BackupId, filled);
                await RunOneAsync(["--jobs=" + plan.Jobs.ToString(CultureInfo.InvariantCulture)]).ConfigureAwait(false);
            }
            else
            {
                await loading.ConfigureAwait(false);
                logger.LogInformation("Loaded the data of {Count} tables of {Database} as their parts of the archive landed{Lost}", loaded.Count, plan.Database, scanner.Lost ? " (part of it sbk could not follow is restored after)" : string.Empty);

                // What had no block of its own (sequence values) or was not found, then the post-data section, in parallel.
                var rest = toc.Select(e => e.DumpId).Where(id => !loaded.Contains(id)).ToList();
                await RunOneAsync(["--section=data", ListFile("rest.list", rest)]).ConfigureAwait(false);
                await RunOneAsync(["--section=post-data", "--jobs=" + plan.Jobs.ToString(CultureInfo.InvariantCulture)]).ConfigureAwait(false);
            }

            return new RunOutcome(exitCode, messages, archive.PlainBytesRead, archive.DownloadTime, archive.DecryptTime, restoreClock.Elapsed);
        }
        catch
        {
            await stop.CancelAsync().ConfigureAwait(false);
            lock (running)
            {
                foreach (var process in running)
                {
                    process.Kill();
                }
            }

            // Its own failure, if any, is this one or follows from it.
            await Task.WhenAny(loading).ConfigureAwait(false);
            throw;
        }
    }
}
