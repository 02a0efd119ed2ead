using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessBackup.Backups;
using ServerlessBackup.Errors;
using ServerlessBackup.Storage;

namespace ServerlessBackup.Operations;

/// <summary>
/// Operation state kept in the store under <c>_operations/</c>: the records of operations (signed,
/// so a record written by anyone without the master key, an "awaiting-approval" one say, is
/// ignored; a failure's message sealed, since it may name tables or roles), and the progress that a
/// Durable activity publishes for its orchestration's status (shown, never acted on).
/// </summary>
public sealed class OperationStore
{
    /// <summary>The store prefix of everything operations keep.</summary>
    public const string Prefix = "_operations/";

    private const string ErrorRole = "operation-error";
    private readonly IObjectStore store;
    private readonly Crypto.StateSigner signer;
    private readonly Crypto.Sealer sealer;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    public OperationStore(IObjectStore store, Crypto.StateSigner signer, Crypto.Sealer sealer, TimeProvider? time = null, ILogger<OperationStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(sealer);
        this.store = store;
        this.signer = signer;
        this.sealer = sealer;
        this.time = time ?? TimeProvider.System;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    internal IObjectStore Objects => store;

    internal Crypto.StateSigner Signer => signer;

    /// <summary>
    /// A record by id, or null when there is none or what is stored is not authenticated (that is
    /// logged, marked <c>[sbk.untrusted-object]</c>, and never acted on); a failure's message is
    /// opened from its seal.
    /// </summary>
    public async Task<OperationRecord?> ReadAsync(string id, CancellationToken cancellationToken = default)
    {
        var read = await store.ReadSignedJsonAsync<OperationRecord>(signer, Key(id), cancellationToken).ConfigureAwait(false);
        if (read.Problem is { } problem)
        {
            logger.LogWarning("[sbk.untrusted-object] {Problem}", problem);
        }

        var record = read.Trusted ? read.Value : null;
        if (record is null || record.Id != id)
        {
            return null;
        }

        if (record.SealedError is { } sealedError)
        {
            try
            {
                var plain = await sealer.OpenAsync(record.Id, ErrorRole, sealedError, Encoding.UTF8.GetBytes(record.Id), $"The error of operation {record.Id}", cancellationToken).ConfigureAwait(false);
                record = record with { Error = Encoding.UTF8.GetString(plain) };
            }
            catch (SbkException ex)
            {
                record = record with { Error = $"The operation failed ({record.ErrorKind}); its message could not be opened: {ex.Message}" };
            }
        }

        return record;
    }

    /// <summary>Every record's key (one object per operation).</summary>
    public async IAsyncEnumerable<string> ListIdsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var item in store.ListAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            var name = item.Key[Prefix.Length..];
            if (name.EndsWith(".json", StringComparison.Ordinal) && !name.Contains('/', StringComparison.Ordinal) && !name.EndsWith(".progress.json", StringComparison.Ordinal))
            {
                yield return name[..^".json".Length];
            }
        }
    }

    /// <summary>Saves (replaces) a record, signed; its error message only in its seal, never in clear.</summary>
    public Task SaveAsync(OperationRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return store.WriteSignedJsonAsync(signer, Key(record.Id), record with { Error = null }, overwrite: true, cancellationToken);
    }

    /// <summary>The record as it ended: the kind in clear, the message sealed under a key wrapped by the master key.</summary>
    public async Task<OperationRecord> EndAsync(OperationRecord record, OperationOutcome outcome, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(outcome);
        var ended = record with { Status = outcome.Status, Result = outcome.Result, ErrorKind = outcome.ErrorKind, Error = outcome.Error, Phase = outcome.Status == OperationStatus.Succeeded ? "done" : record.Phase, UpdatedAt = time.GetUtcNow() };
        if (outcome.Error is null)
        {
            return ended;
        }

        try
        {
            var sealedError = await sealer.SealAsync(record.Id, ErrorRole, Encoding.UTF8.GetBytes(outcome.Error), Encoding.UTF8.GetBytes(record.Id), cancellationToken).ConfigureAwait(false);
            return ended with { SealedError = sealedError };
        }
        catch (SbkException ex)
        {
            // No master key to seal with: keep only the kind; the message stays in this process (Slack, logs).
            logger.LogWarning("Could not seal the error of operation {Id}: {Message}", record.Id, ex.Message);
            return ended;
        }
    }

    /// <summary>Publishes a running operation's progress (a Durable activity's, for its orchestration's status).</summary>
    public Task WriteProgressAsync(string id, OperationProgress progress, CancellationToken cancellationToken = default) =>
        store.WriteJsonAsync(ProgressKey(id), progress, cancellationToken);

    /// <summary>A running operation's latest published progress, or null.</summary>
    public Task<OperationProgress?> ReadProgressAsync(string id, CancellationToken cancellationToken = default) =>
        store.ReadJsonAsync<OperationProgress>(ProgressKey(id), cancellationToken);

    private static string Key(string id) => $"{Prefix}{id}.json";

    private static string ProgressKey(string id) => $"{Prefix}{id}.progress.json";
}

/// <summary>Where a running operation is.</summary>
/// <param name="Phase">preflight, dumping, restoring, checking, …</param>
/// <param name="Bytes">Bytes processed so far.</param>
/// <param name="At">When this was published.</param>
public sealed record OperationProgress(string Phase, long? Bytes, DateTimeOffset At)
{
    /// <summary>A parallel restore's tables loaded so far, of how many (null: not counted).</summary>
    public TableCount? Tables { get; init; }

    /// <summary>The phase name an engine progress report maps to.</summary>
    public static string PhaseOf(Backups.WorkProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        return progress.Phase.ToString().ToLowerInvariant();
    }
}
