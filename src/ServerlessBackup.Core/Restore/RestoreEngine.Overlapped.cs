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
    /// A parallel restore that does not wait for the archive: as it lands, the schema is created
    /// (<c>--section=pre-data</c>) as soon as the table of contents is in, and each table's rows are
    /// loaded by one of <see cref="RunPlan.Jobs"/> pg_restore processes from the moment its data
    /// block starts to arrive: that pg_restore reads, on its standard input, the header and table of
    /// contents and then that block, from the landing file as it grows (<see cref="LandedBlock"/>),
    /// so a table's COPY runs while its own rows, and the tables after it, are still arriving. A
    /// table whose turn comes once its block is whole is read by pg_restore from the landed copy (its
    /// offset written in). Once everything has landed and authenticated, what had no block
    /// (sequence values) or was not followed is restored from the landed copy with the indexes,
    /// constraints and triggers (<c>--section=data --section=post-data</c>, in parallel). The outcome is that of
    /// one pg_restore: errors of every process counted together. An archive this does not
    /// understand is restored as before, from the whole landed copy.
    /// </summary>
    private async Task<RunOutcome> RunOverlappedAsync(RunPlan plan, List<string> common, ArchivePlaintext archive, Stream joined, string local, Action<WorkProgress> report, CancellationToken cancellationToken)
    {
        var restoreClock = Stopwatch.StartNew();
        var messages = new PgRestoreMessages(plan.Tolerated);
        var exitCode = 0;
        var running = new List<PgRestoreProcess>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // pg_restore, to completion, reading the landed copy or (feed) one block as it lands; its
        // messages join the restore's. False when the block could not be followed to its end: that
        // pg_restore is stopped before its COPY ends (so nothing of it stays) and counts for nothing.
        async Task<bool> RunOneAsync(IEnumerable<string> extra, LandedBlock? feed = null)
        {
            var arguments = common.Concat(extra).ToList();
            if (feed is null)
            {
                arguments.Add(local);
            }

            using var process = PgRestoreProcess.Start(plan.Tool, arguments, plan.Connection, plan.Target, plan.Tolerated);
            lock (running)
            {
                running.Add(process);
            }

            try
            {
                if (feed is null)
                {
                    process.CloseInput();
                }
                else
                {
                    await using (feed.ConfigureAwait(false))
                    {
                        try
                        {
                            await process.FeedAsync(feed, null, stop.Token).ConfigureAwait(false);
                        }
                        catch (InvalidDataException)
                        {
                            process.Kill();
                            await process.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                            return false;
                        }
                    }
                }

                var (exit, _) = await process.WaitAsync(stop.Token).ConfigureAwait(false);
                lock (messages)
                {
                    messages.Absorb(process.Messages);
                    exitCode = Math.Max(exitCode, exit);
                }

                return true;
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

        var tocIn = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var blocks = Channel.CreateUnbounded<(int DumpId, long Start)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var watch = new LandingWatch();
        var loaded = new HashSet<int>();
        var tables = 0;

        // Tables whose rows are in, of those with rows: the landing is done long before the loading is.
        void Report()
        {
            int done;
            lock (loaded)
            {
                done = loaded.Count;
            }

            report(new WorkProgress(WorkPhase.Restoring, archive.StoredBytesRead, archive.PlainBytesRead, TimeSpan.Zero) { TablesLoaded = done, Tables = Volatile.Read(ref tables) });
        }

        // Awaits work that reports nothing of its own, reporting each second meanwhile.
        async Task TickingAsync(Task work)
        {
            while (!stop.IsCancellationRequested && await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(1), stop.Token)).ConfigureAwait(false) != work)
            {
                if (!stop.IsCancellationRequested)
                {
                    Report();
                }
            }

            await work.ConfigureAwait(false);
        }

        // Loads the data of each block from its start, on up to Jobs processes, once the schema is in.
        async Task LoadAsync()
        {
            try
            {
                await LoadBlocksAsync().ConfigureAwait(false);
            }
            catch when (!stop.IsCancellationRequested)
            {
                // A load that failed stops the landing too; its failure is the one reported.
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }

        async Task LoadBlocksAsync()
        {
            var tocEnd = await tocIn.Task.WaitAsync(stop.Token).ConfigureAwait(false);
            await plan.Ready.WaitAsync(stop.Token).ConfigureAwait(false);
            await RunOneAsync(["--section=pre-data"]).ConfigureAwait(false);
            var loads = new List<Task>();
            var arrived = new List<(int DumpId, long Start)>();
            while (true)
            {
                while (blocks.Reader.TryRead(out var block))
                {
                    arrived.Add(block);
                }

                if (arrived.Count == 0)
                {
                    if (!await blocks.Reader.WaitToReadAsync(stop.Token).ConfigureAwait(false))
                    {
                        break;
                    }

                    continue;
                }

                if (loads.Count >= plan.Jobs)
                {
                    var done = await Task.WhenAny(loads).ConfigureAwait(false);
                    loads.Remove(done);
                    await done.ConfigureAwait(false);
                    continue;
                }

                var (dumpId, start) = TakeLargest(arrived, watch);

                // A block still landing is read as it lands; one that is whole, from the landed copy (its offset is in).
                loads.Add(LoadOneAsync(dumpId, watch.IsWhole(dumpId) ? null : new LandedBlock(local, tocEnd, dumpId, start, watch)));
            }

            await Task.WhenAll(loads).ConfigureAwait(false);
        }

        async Task LoadOneAsync(int dumpId, LandedBlock? block)
        {
            if (await RunOneAsync(["--section=data", ListFile($"data-{dumpId}.list", [dumpId])], block).ConfigureAwait(false))
            {
                lock (loaded)
                {
                    loaded.Add(dumpId);
                }

                Report();
            }
        }

        var loading = LoadAsync();
        try
        {
            var landed = await ArchiveLanding.LandAsync(joined, local,
                written =>
                {
                    watch.Landed(written);
                    Report();
                },
                (all, tocEnd) =>
                {
                    Volatile.Write(ref tables, all.Count(e => e.HasData));
                    tocIn.TrySetResult(tocEnd);
                },
                (dumpId, start) => blocks.Writer.TryWrite((dumpId, start)),
                watch.Ended,
                stop.Token).ConfigureAwait(false);
            archive.VerifyComplete();
            watch.Done();
            blocks.Writer.TryComplete();
            if (landed.Toc is not { } toc)
            {
                // Not an archive this follows: restore it whole, as pg_restore -j would.
                tocIn.TrySetCanceled(CancellationToken.None);
                await Task.WhenAny(loading).ConfigureAwait(false);
                logger.LogInformation("The archive of {Database} backup {BackupId} is not one sbk can follow as it lands; restoring it whole", plan.Database, plan.BackupId);
                await plan.Ready.WaitAsync(stop.Token).ConfigureAwait(false);
                await RunOneAsync(["--jobs=" + plan.Jobs.ToString(CultureInfo.InvariantCulture)]).ConfigureAwait(false);
            }
            else
            {
                await TickingAsync(loading).ConfigureAwait(false);
                logger.LogInformation("Loaded the data of {Count} tables of {Database} as their parts of the archive landed{Lost}", loaded.Count, plan.Database,
                    loaded.Count < toc.Count(e => e.HasData) ? " (the part sbk could not follow is restored after)" : string.Empty);

                // What had no block of its own (sequence values) or was not followed, and the post-data section: one
                // pg_restore, in parallel, which orders them (an index after its table's rows) and tells the sections apart.
                var rest = toc.Select(e => e.DumpId).Where(id => !loaded.Contains(id)).ToList();
                await TickingAsync(RunOneAsync(["--section=data", "--section=post-data", ListFile("rest.list", rest), "--jobs=" + plan.Jobs.ToString(CultureInfo.InvariantCulture)])).ConfigureAwait(false);
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

            await Task.WhenAny(loading).ConfigureAwait(false);
            if (loading.Exception?.InnerException is { } failure)
            {
                // The landing stopped because a load failed: that failure is the one to report.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }

            throw;
        }
    }

    /// <summary>
    /// Takes, of the blocks that have started to land, the largest known so far (a whole block's size,
    /// or what has landed of the one landing), the first of equals: pg_restore -j also loads the largest
    /// tables first, so that a large table coming last in the archive does not start after every small
    /// one and end the restore alone.
    /// </summary>
    internal static (int DumpId, long Start) TakeLargest(List<(int DumpId, long Start)> arrived, LandingWatch watch)
    {
        var largest = arrived.MaxBy(b => watch.SizeSoFar(b.DumpId, b.Start));
        arrived.Remove(largest);
        return largest;
    }
}
