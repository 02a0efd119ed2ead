using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessBackup.Crypto;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Errors;
using ServerlessBackup.Storage;

namespace ServerlessBackup.Audit;

/// <summary>
/// Who did what, kept in the store under <c>_audit/yyyy/MM/dd/</c>, one signed object per entry:
/// every state-changing API call (approvals included) from <c>sbk serve</c> and the Functions app,
/// and every restore, decrypt, hold, release, swap back, prune and key or secret change from the
/// command line. Requests refused before anyone was authenticated are counted and written as one
/// entry per minute per instance, so they cannot fill the store. <see cref="ReadAsync"/> lists
/// entries for <c>sbk audit</c>, saying which ones do not authenticate.
/// </summary>
public sealed class AuditLog
{
    /// <summary>The store prefix of the log.</summary>
    public const string Prefix = "_audit/";

    private readonly IObjectStore store;
    private readonly StateSigner signer;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<int, int> refused = new();
    private long refusedMinute;

    public AuditLog(IObjectStore store, StateSigner signer, TimeProvider? time = null, ILogger<AuditLog>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(signer);
        this.store = store;
        this.signer = signer;
        this.time = time ?? TimeProvider.System;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Writes one entry, signed when the master key is there (an entry written before it existed,
    /// by <c>sbk keys init</c> say, is stored unsigned and listed as such). Never throws: an audit
    /// write that fails is logged, and the work it records stands.
    /// </summary>
    public async Task RecordAsync(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var at = entry.At;
        var key = string.Create(CultureInfo.InvariantCulture, $"{Prefix}{at:yyyy/MM/dd}/{at:HHmmssfff}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}.json");
        try
        {
            try
            {
                await store.WriteSignedJsonAsync(signer, key, entry, overwrite: false, CancellationToken.None).ConfigureAwait(false);
            }
            catch (SbkException ex) when (ex.Kind == SbkErrorKind.Configuration)
            {
                await store.WriteJsonAsync(key, entry, CancellationToken.None).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // An audit write is best effort by design: what it records already happened.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            logger.LogWarning("Could not write the audit entry for {Action} by {Caller}: {Message}", entry.Action, entry.Caller, SecretRedactor.Redact(ex.Message));
        }
    }

    /// <summary>
    /// Counts a request refused before its caller was known (401, 403, 413…); the counts of a
    /// minute are written as one entry when the next minute's first refusal or entry comes.
    /// </summary>
    public async Task CountRefusedAsync(int status, string host)
    {
        var minute = time.GetUtcNow().ToUnixTimeSeconds() / 60;
        var previous = Interlocked.Exchange(ref refusedMinute, minute);
        if (previous != minute && previous != 0 && !refused.IsEmpty)
        {
            var counts = refused.ToArray();
            refused.Clear();
            var at = DateTimeOffset.FromUnixTimeSeconds(previous * 60);
            await RecordAsync(new AuditEntry(at, host, "anonymous", "refused-requests", null, "refused",
                string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Value.ToString(CultureInfo.InvariantCulture)} × {c.Key.ToString(CultureInfo.InvariantCulture)}")) + " in the minute from " + at.ToString("HH:mm", CultureInfo.InvariantCulture) + " UTC")
            { Count = counts.Sum(c => c.Value) }).ConfigureAwait(false);
        }

        refused.AddOrUpdate(status, 1, (_, n) => n + 1);
    }

    /// <summary>Entries from <paramref name="since"/> on that <paramref name="filter"/> lets through (all: none given), newest first, each with whether it authenticates.</summary>
    public async IAsyncEnumerable<(AuditEntry Entry, bool Trusted)> ReadAsync(DateTimeOffset since, AuditFilter? filter = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var days = new List<string>();
        for (var day = since.UtcDateTime.Date; day <= time.GetUtcNow().UtcDateTime.Date; day = day.AddDays(1))
        {
            days.Add(string.Create(CultureInfo.InvariantCulture, $"{Prefix}{day:yyyy/MM/dd}/"));
        }

        days.Reverse();
        foreach (var prefix in days)
        {
            var keys = new List<string>();
            await foreach (var item in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
            {
                keys.Add(item.Key);
            }

            keys.Reverse();
            foreach (var key in keys)
            {
                var read = await store.ReadSignedJsonAsync<AuditEntry>(signer, key, cancellationToken).ConfigureAwait(false);
                var entry = read.Trusted ? read.Value : read.Claimed;
                if (entry is not null && entry.At >= since && (filter is null || filter.Matches(entry)))
                {
                    yield return (entry, read.Trusted);
                }
            }
        }
    }
}

/// <summary>One audit entry.</summary>
/// <param name="At">When.</param>
/// <param name="Host">cli, serve or functions.</param>
/// <param name="Caller">The API caller's name, or user@machine on the command line.</param>
/// <param name="Action">What: restore, decrypt, hold, release, approve, keys rotate, POST /api/backups…</param>
/// <param name="Target">The database (and backup) it concerned, when one.</param>
/// <param name="Outcome">ok, failed (with the HTTP status or exit kind), or refused.</param>
/// <param name="Detail">More, never a secret: an operation id, a count.</param>
public sealed record AuditEntry(DateTimeOffset At, string Host, string Caller, string Action, string? Target, string Outcome, string? Detail)
{
    /// <summary>How many requests an aggregated entry stands for.</summary>
    public int? Count { get; init; }
}

/// <summary>Which audit entries to list.</summary>
/// <param name="Caller">Only this caller (an API key's name, or user@machine), any case.</param>
/// <param name="Action">Only actions containing this text, any case.</param>
/// <param name="Database">Only entries about this database: named in the target, or in the request path.</param>
public sealed record AuditFilter(string? Caller = null, string? Action = null, string? Database = null)
{
    /// <summary>Whether <paramref name="entry"/> passes.</summary>
    public bool Matches(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return (Caller is null || string.Equals(entry.Caller, Caller, StringComparison.OrdinalIgnoreCase))
            && (Action is null || entry.Action.Contains(Action, StringComparison.OrdinalIgnoreCase))
            && (Database is null || (entry.Target?.Split(' ').Contains(Database, StringComparer.Ordinal) ?? false) || entry.Action.Contains("/" + Database, StringComparison.Ordinal));
    }
}
