using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Dump;
using ServerlessBackup.Errors;
using ServerlessBackup.Secrets;

namespace ServerlessBackup.Restore;

/// <summary>
/// The engine's restore side: restores a backup into a scratch database (or, deliberately, into
/// a catalogued one), verifies backups at increasing levels, and looks after scratch databases.
/// Holds no state between calls beyond the store and the scratch server.
/// </summary>
public sealed partial class RestoreEngine
{
    private readonly SbkOptions options;
    private readonly BackupEngine backups;
    private readonly ISecretStore secrets;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    public RestoreEngine(SbkOptions options, BackupEngine backups, ISecretStore secrets, TimeProvider? time = null, ILogger<RestoreEngine>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backups);
        ArgumentNullException.ThrowIfNull(secrets);
        this.options = options;
        this.backups = backups;
        this.secrets = secrets;
        this.time = time ?? TimeProvider.System;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    private TimeSpan Ttl => TimeSpan.FromHours(options.Scratch.TtlHours);

    /// <summary>
    /// The scratch server, refusing it when it is the server of <paramref name="database"/> itself
    /// unless Scratch:AllowSourceServer says that is intended (development).
    /// </summary>
    private async Task<ScratchServer> OpenScratchAsync(string database, DatabaseOptions entry, CancellationToken cancellationToken)
    {
        var scratch = await ScratchServer.OpenAsync(options.Scratch, secrets, cancellationToken).ConfigureAwait(false);
        if (options.Scratch.AllowSourceServer)
        {
            return scratch;
        }

        PgConnectionInfo source;
        try
        {
            source = PgConnectionInfo.FromSecret(await secrets.GetSecretAsync(entry.ConnectionStringSecret!, null, cancellationToken).ConfigureAwait(false));
        }
        catch (SbkException)
        {
            // The source's secret is gone (the source may be gone too: this is a disaster recovery); nothing to compare.
            return scratch;
        }

        if (SameServer(source, scratch.Admin))
        {
            throw new SbkException(SbkErrorKind.Configuration,
                $"The scratch server ({scratch.Admin.Host}:{scratch.Admin.Port}) is the server of database '{database}' itself. sbk will not create scratch databases next to a production database by accident: name another server in Scratch:ConnectionStringSecret, or set Scratch:AllowSourceServer to true if this is a development setup.");
        }

        return scratch;
    }

    private static bool SameServer(PgConnectionInfo a, PgConnectionInfo b)
    {
        static string Normal(string host) => host.ToLowerInvariant() switch
        {
            "localhost" or "127.0.0.1" or "::1" or "[::1]" => "loopback",
            var h => h,
        };

        return a.Port == b.Port && Normal(a.Host) == Normal(b.Host);
    }

    /// <summary>The newest pg_restore here, which must be at least as new as the pg_dump that wrote the backup.</summary>
    private Task<PgToolVersion> SelectPgRestoreAsync(Manifest manifest, Task<IReadOnlyList<PgToolVersion>>? programs, CancellationToken cancellationToken)
    {
        var dumpMajor = int.TryParse(manifest.Source.PgDumpVersion.Split('.')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : 0;
        return PgToolLocator.SelectAsync("pg_restore", options.Scratch.PgRestorePath, "Scratch:PgRestorePath", dumpMajor,
            $"Backup {manifest.BackupId} of '{manifest.Database}' was written by pg_dump {manifest.Source.PgDumpVersion}, and pg_restore cannot read archives from a newer pg_dump", cancellationToken, programs);
    }

    /// <summary>The pg_restore programs here (no scripts), asked before it is known which version a backup needs.</summary>
    private Task<IReadOnlyList<PgToolVersion>> FindPgRestoreProgramsAsync(CancellationToken cancellationToken) =>
        Early(PgToolLocator.FindAllAsync("pg_restore", options.Scratch.PgRestorePath, cancellationToken, scripts: false));

    /// <summary>
    /// Work started before it is known to be needed (while a manifest is read): awaited later, it
    /// throws as ever; left behind because something before it failed, its failure is dropped
    /// rather than left unobserved.
    /// </summary>
    private static Task<T> Early<T>(Task<T> task)
    {
        _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return task;
    }

    /// <summary>Resolves <c>schema.table</c> or <c>table</c> against the backup's census.</summary>
    private static List<(string Schema, string Name)> ResolveTables(BackupDetails details, IReadOnlyList<string> requested)
    {
        var result = new List<(string Schema, string Name)>();
        if (requested.Count == 0)
        {
            return result;
        }

        var census = details.Private.Census.Tables;
        var backup = $"backup {details.Manifest.BackupId} of '{details.Manifest.Database}'";
        if (census.Count == 0)
        {
            throw new SbkException(SbkErrorKind.Configuration, $"The {backup} has no table census (Census: None), so sbk cannot tell which tables it holds; restore it whole, or decrypt it and use pg_restore -t.");
        }

        foreach (var wanted in requested)
        {
            var matches = census.Where(t => $"{t.Schema}.{t.Name}" == wanted).ToList();
            if (matches.Count == 0)
            {
                matches = census.Where(t => t.Name == wanted).ToList();
            }

            if (matches.Count == 0)
            {
                var close = census.Where(t => t.Name.Contains(wanted.Split('.')[^1], StringComparison.OrdinalIgnoreCase)).Select(t => $"{t.Schema}.{t.Name}").Take(5).ToList();
                throw new SbkException(SbkErrorKind.NotFound, $"The {backup} has no table '{BackupEngine.Sanitize(wanted)}'."
                    + (close.Count > 0 ? $" Did you mean {string.Join(", ", close)}?" : " See its tables with: sbk show " + details.Manifest.Database + " " + details.Manifest.BackupId));
            }

            if (matches.Count > 1)
            {
                throw new SbkException(SbkErrorKind.Configuration, $"The table name '{BackupEngine.Sanitize(wanted)}' is in several schemas of the {backup} ({string.Join(", ", matches.Select(t => $"{t.Schema}.{t.Name}"))}); give it as schema.table.");
            }

            if (!result.Contains((matches[0].Schema, matches[0].Name)))
            {
                result.Add((matches[0].Schema, matches[0].Name));
            }
        }

        return result;
    }

    private static SbkException Refuse(string message) => new(SbkErrorKind.Configuration, message + " Nothing was changed.");

    private static double Seconds(TimeSpan span) => Math.Round(span.TotalSeconds, 3);
}
