using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Crypto;
using ServerlessBackup.Errors;
using ServerlessBackup.Notify;
using ServerlessBackup.Restore;
using ServerlessBackup.Storage;
using ServerlessBackup.Verify;
using ServerlessBackup.Workflows;

namespace ServerlessBackup.Drills;

/// <summary>
/// The host side of drills: builds a drill's input from the catalog, provides the activities (plain
/// engine calls, idempotent), runs the workflow in-process, and reads stored reports. A report lives
/// sealed at <c>_drills/{drillId}/report.json</c> (a leading underscore never collides with a catalog
/// name); Markdown and HTML are rendered from it on demand.
/// </summary>
public sealed class DrillEngine
{
    /// <summary>The store prefix of drill reports.</summary>
    public const string Prefix = "_drills/";

    private static readonly JsonSerializerOptions Indented = new(InProcessWorkflowRuntime.Json) { WriteIndented = true };
    private readonly SbkOptions options;
    private readonly BackupEngine backups;
    private readonly RestoreEngine restores;
    private readonly IObjectStore store;
    private readonly Sealer sealer;
    private readonly Notifier notifier;
    private readonly TimeProvider time;
    private readonly ILoggerFactory? loggers;

    /// <summary>Drill reports are kept in <paramref name="store"/>, sealed by <paramref name="sealer"/>.</summary>
    public DrillEngine(SbkOptions options, BackupEngine backups, RestoreEngine restores, IObjectStore store, Sealer sealer, Notifier notifier, TimeProvider? time = null, ILoggerFactory? loggers = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backups);
        ArgumentNullException.ThrowIfNull(restores);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(sealer);
        ArgumentNullException.ThrowIfNull(notifier);
        this.options = options;
        this.backups = backups;
        this.restores = restores;
        this.store = store;
        this.sealer = sealer;
        this.notifier = notifier;
        this.time = time ?? TimeProvider.System;
        this.loggers = loggers;
    }

    /// <summary>A new drill id: <c>drill-yyyyMMddTHHmmssZ-xxxxxx</c>.</summary>
    public string NewDrillId() => "drill-" + BackupId.New(time.GetUtcNow());

    /// <summary>The input for a drill over <paramref name="databases"/> (default: every catalogued database), with their objectives from the catalog.</summary>
    public DrillInput CreateInput(IReadOnlyList<string>? databases = null, int maxParallel = 2, TimeSpan? deadline = null, VerificationLevel level = VerificationLevel.Assertions)
    {
        var names = databases is { Count: > 0 } ? databases : options.Databases.Keys.Order(StringComparer.Ordinal).ToList();
        if (names.Count == 0)
        {
            throw new SbkException(SbkErrorKind.Configuration, "No databases are catalogued, so there is nothing to drill. Add them under Databases in the configuration.");
        }

        if (maxParallel is < 1 or > 32)
        {
            throw new SbkException(SbkErrorKind.Configuration, "--max-parallel must be between 1 and 32.");
        }

        var now = time.GetUtcNow();
        var targets = names.Distinct(StringComparer.Ordinal).Select(name =>
        {
            var entry = backups.ResolveDatabase(name);
            return new DrillTarget(name, "latest", entry.RpoHours(now), entry.Objectives.RtoHours);
        }).ToList();
        return new DrillInput(NewDrillId(), targets, maxParallel, (deadline ?? TimeSpan.FromHours(4)).TotalSeconds, level);
    }

    /// <summary>Runs a drill in this process; returns its report and the workflow's history (for replay checks).</summary>
    public Task<(DrillReport Report, WorkflowHistory History)> RunAsync(DrillInput input, Action<object?>? onStatus = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        return InProcessWorkflowRuntime.RunAsync(input.DrillId, context => DrillWorkflow.RunAsync(context, input), Activities.Register(new WorkflowActivities()), time, loggers, onStatus, cancellationToken);
    }

    /// <summary>The drill's activities (the Functions app binds each to an activity trigger).</summary>
    public DrillActivities Activities => new(this, backups, restores, notifier);

    /// <summary>
    /// Stores the report sealed (it names tables and counts rows, which storage readers must not
    /// learn): a data key wrapped by the master key, the report as AES-256-GCM under it, and in clear
    /// only the drill id, start time and counts, for listing. Idempotent: the same drill overwrites its own report.
    /// </summary>
    public async Task<List<string>> SaveAsync(DrillReport report, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        var clear = new StoredDrill(1, report.DrillId, report.StartedAt, report.Passed, report.Databases.Count, null, null);
        var sealedReport = await sealer.SealAsync(report.DrillId, DrillReportRole, JsonSerializer.SerializeToUtf8Bytes(report, InProcessWorkflowRuntime.Json.Info<DrillReport>()), AssociatedData(clear), cancellationToken).ConfigureAwait(false);
        var storeKey = $"{Prefix}{report.DrillId}/report.json";
        await store.PutAsync(storeKey, JsonSerializer.SerializeToUtf8Bytes(clear with { Key = sealedReport.Key, Sealed = sealedReport.Seal }, Indented.Info<StoredDrill>()), overwrite: true, new Dictionary<string, string>
        {
            ["drillid"] = report.DrillId,
            ["startedat"] = report.StartedAt.ToString("O", CultureInfo.InvariantCulture),
            ["passed"] = report.Passed.ToString(CultureInfo.InvariantCulture),
            ["databases"] = report.Databases.Count.ToString(CultureInfo.InvariantCulture),
        }, cancellationToken).ConfigureAwait(false);
        return [storeKey];
    }

    private const string DrillReportRole = "drill-report";

    private static byte[] AssociatedData(StoredDrill clear) => SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(clear with { Key = null, Sealed = null }, InProcessWorkflowRuntime.Json.Info<StoredDrill>()));

    internal sealed record StoredDrill(int FormatVersion, string DrillId, DateTimeOffset StartedAt, int Passed, int Databases, StoredKey? Key, SealedPart? Sealed);

    /// <summary>Stored drills, newest first: id, start, databases passed of all.</summary>
    public async Task<IReadOnlyList<(string DrillId, DateTimeOffset StartedAt, int Passed, int Databases)>> ListAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<(string, DateTimeOffset, int, int)>();
        await foreach (var item in store.ListAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            if (item.Key.EndsWith("/report.json", StringComparison.Ordinal) && item.Metadata.TryGetValue("startedat", out var started))
            {
                result.Add((item.Metadata["drillid"], DateTimeOffset.Parse(started, CultureInfo.InvariantCulture),
                    int.Parse(item.Metadata.GetValueOrDefault("passed", "0"), CultureInfo.InvariantCulture), int.Parse(item.Metadata.GetValueOrDefault("databases", "0"), CultureInfo.InvariantCulture)));
            }
        }

        return result.OrderByDescending(r => r.Item2).ToList();
    }

    /// <summary>One stored report (JSON), or its Markdown or HTML rendering.</summary>
    /// <exception cref="SbkException">NotFound.</exception>
    public async Task<string> ReadAsync(string drillId, string format = "json", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(drillId);
        if (!drillId.StartsWith("drill-", StringComparison.Ordinal) || !BackupId.IsValid(drillId["drill-".Length..]) || format is not ("json" or "md" or "html"))
        {
            throw new SbkException(SbkErrorKind.NotFound, $"'{BackupEngine.Sanitize(drillId)}' is not a drill id (they look like drill-20261121T084627Z-k3f9x2). List them with: sbk drill list");
        }

        var report = await OpenAsync(drillId, cancellationToken).ConfigureAwait(false);
        return format switch
        {
            "md" => DrillReportRenderer.Markdown(report),
            "html" => DrillReportRenderer.Html(report),
            _ => JsonSerializer.Serialize(report, Indented.Info<DrillReport>()),
        };
    }

    /// <summary>A stored report, authenticated and opened with the master key version it names.</summary>
    public async Task<DrillReport> OpenAsync(string drillId, CancellationToken cancellationToken = default)
    {
        var key = $"{Prefix}{drillId}/report.json";
        if (await store.GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new SbkException(SbkErrorKind.NotFound, $"There is no drill {drillId} in {store.Description}. List them with: sbk drill list");
        }

        var what = $"The report of drill {drillId}";
        await using var stream = await store.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        var stored = await JsonSerializer.DeserializeAsync(stream, InProcessWorkflowRuntime.Json.Info<StoredDrill>(), cancellationToken).ConfigureAwait(false);
        if (stored is not { Key: { } wrapped, Sealed: { } seal } || stored.DrillId != drillId)
        {
            throw new IntegrityException($"{what} is not a sealed drill report for that drill: it was altered or moved.");
        }

        var plain = await sealer.OpenAsync(drillId, DrillReportRole, new SealedObject(wrapped, seal), AssociatedData(stored), what, cancellationToken).ConfigureAwait(false);
        return JsonSerializer.Deserialize(plain, InProcessWorkflowRuntime.Json.Info<DrillReport>())!;
    }

    internal async Task<List<DrillTrendPoint>> LoadTrendAsync(DrillHistoryInput input, CancellationToken cancellationToken)
    {
        var points = new List<DrillTrendPoint>();
        foreach (var (drillId, _, _, _) in (await ListAsync(cancellationToken).ConfigureAwait(false)).Where(d => d.DrillId != input.DrillId).Take(8))
        {
            var report = await OpenAsync(drillId, cancellationToken).ConfigureAwait(false);
            points.AddRange(report!.Databases.Where(d => input.Databases.Contains(d.Database))
                .Select(d => new DrillTrendPoint(report.DrillId, report.StartedAt, d.Database, d.Outcome.ToString(), d.RtoSeconds, d.RpoHours)));
        }

        return points.OrderBy(p => p.StartedAt).ThenBy(p => p.Database, StringComparer.Ordinal).ToList();
    }

}
