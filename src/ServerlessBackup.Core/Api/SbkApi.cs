using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessBackup.Audit;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Crypto;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Drills;
using ServerlessBackup.Errors;
using ServerlessBackup.Operations;
using ServerlessBackup.Restore;
using ServerlessBackup.Schedules;
using ServerlessBackup.Secrets;
using ServerlessBackup.Storage;
using ServerlessBackup.Verify;

namespace ServerlessBackup.Api;

/// <summary>
/// The chat-ops HTTP API, transport-neutral: a host (Kestrel in <c>sbk serve</c>, an HTTP-triggered
/// function in Azure) turns its request into an <see cref="ApiRequest"/> (see <see cref="HttpApiAdapter"/>),
/// hands it over with the host's <see cref="IOperationService"/>, and writes the
/// <see cref="ApiResponse"/> back. Callers name catalogued databases only; bad input is a 4xx
/// RFC 9457 problem that says what was wrong; every state-changing call is audited.
/// </summary>
public sealed partial class SbkApi
{
    private static readonly JsonSerializerOptions Strict = new(SbkJson.Web())
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Disallow,
    };

    private readonly SbkOptions options;
    private readonly BackupEngine backups;
    private readonly Scheduler scheduler;
    private readonly DrillEngine drills;
    private readonly IObjectStore store;
    private readonly StateSigner signer;
    private readonly ApiAuthenticator authenticator;
    private readonly AuditLog audit;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    /// <summary>The API over the engine's services; it keeps its own state (idempotency keys, replay marks, the audit log) in <paramref name="store"/>, signed by <paramref name="signer"/>.</summary>
    public SbkApi(SbkOptions options, BackupEngine backups, Scheduler scheduler, DrillEngine drills, ISecretStore secrets, IObjectStore store, StateSigner signer, TimeProvider? time = null, ILogger<SbkApi>? logger = null, AuditLog? audit = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backups);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(drills);
        ArgumentNullException.ThrowIfNull(secrets);
        this.options = options;
        this.backups = backups;
        this.scheduler = scheduler;
        this.drills = drills;
        this.time = time ?? TimeProvider.System;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
        this.store = store;
        this.signer = signer;
        authenticator = new ApiAuthenticator(options.Api, secrets, this.time, store, signer);
        this.audit = audit ?? new AuditLog(store, signer, this.time);
    }

    /// <summary>Who serves the API, for the audit log: serve (the default) or functions; set when the host composes it.</summary>
    public string Host { get; set; } = "serve";

    /// <summary>Forgets shared reads (listings, health), e.g. when an operation of this process ended.</summary>
    public void InvalidateReads() => reads.Clear();

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (Task<object> Read, DateTimeOffset At)> reads = new(StringComparer.Ordinal);

    /// <summary>
    /// One read of the store serves every concurrent request for the same thing, and is reused for
    /// Api:CacheSeconds (bots poll; listings change only when backups do).
    /// </summary>
    private async Task<T> SharedReadAsync<T>(string key, Func<Task<T>> read)
        where T : class
    {
        var now = time.GetUtcNow();
        var ttl = TimeSpan.FromSeconds(options.Api.CacheSeconds);
        while (true)
        {
            if (reads.TryGetValue(key, out var entry) && (!entry.Read.IsCompleted || now - entry.At <= ttl))
            {
                try
                {
                    return (T)await entry.Read.ConfigureAwait(false);
                }
                catch (Exception) when (!entry.Read.IsCompletedSuccessfully)
                {
                    reads.TryRemove(new KeyValuePair<string, (Task<object>, DateTimeOffset)>(key, entry));
                    throw;
                }
            }

            var fresh = (Task<object>)Wrap(read);
            if (entry.Read is null ? reads.TryAdd(key, (fresh, now)) : reads.TryUpdate(key, (fresh, now), entry))
            {
                return (T)await fresh.ConfigureAwait(false);
            }
        }

        static async Task<object> Wrap(Func<Task<T>> read) => await read().ConfigureAwait(false);
    }

    internal sealed record BackupBody
    {
        public required string Database { get; init; }

        public string? Label { get; init; }
    }

    internal sealed record RestoreBody
    {
        public required string Database { get; init; }

        /// <summary>"latest", a backup id, or {"before": TIME}: the newest backup taken before TIME.</summary>
        public JsonElement? Backup { get; init; }

        public string Target { get; init; } = "scratch";

        public string? Confirm { get; init; }
    }

    internal sealed record VerificationBody
    {
        public required string Database { get; init; }

        public string Backup { get; init; } = "latest";

        public string Level { get; init; } = "assertions";
    }

    internal sealed record DrillBody
    {
        public IReadOnlyList<string>? Databases { get; init; }

        public int? MaxParallel { get; init; }

        public double? DeadlineMinutes { get; init; }

        public string? Level { get; init; }
    }

    private static readonly string[] Levels = ["archive", "restore", "census", "assertions"];

    /// <summary>
    /// Handles one request; long operations are started through <paramref name="operations"/>
    /// (the host's). Never throws for anything a caller sends.
    /// </summary>
    public async Task<ApiResponse> HandleAsync(ApiRequest request, IOperationService operations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(operations);
        var who = new AuditFacts();
        ApiResponse response;
        try
        {
            response = await RouteAsync(request, operations, who, cancellationToken).ConfigureAwait(false);
        }
        catch (SbkException ex) when (ex.InnerException is Azure.RequestFailedException or Azure.Identity.AuthenticationFailedException or Azure.Identity.CredentialUnavailableException or HttpRequestException)
        {
            // The server's own dependency failed (the store refused it, or is unreachable): not the caller's doing. Logged, with the detail.
            logger.LogError("{Method} {Path}: the store failed: {Message}", request.Method, Clean(request.Path), SecretRedactor.Redact(ex.Message));
            response = ApiResults.Problem(503, "unavailable", "The backup store is unavailable", "The server could not reach or use its backup store; it was logged. Try again later.",
                new Dictionary<string, string> { ["Retry-After"] = "30" });
        }
        catch (SbkException ex)
        {
            response = FromException(ex);
            if (response.Status >= 500)
            {
                // A dependency failed (a database server, Key Vault, the network): the server's problem, so its log says what.
                logger.LogError("{Method} {Path} answered {Status}: {Message}", request.Method, Clean(request.Path), response.Status, SecretRedactor.Redact(ex.Message));
            }
        }
        catch (JsonException ex)
        {
            response = ApiResults.Problem(400, "malformed-json", "The body is not valid JSON for this request",
                $"{(ex.Path is { Length: > 1 } path ? $"At {Clean(path)}: " : string.Empty)}{DescribeJsonError(ex.Message)}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // The API is a boundary: a bug becomes a plain 500 without details, never a stack trace.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            logger.LogError("The API failed on {Method} {Path}: {Type}: {Message}", request.Method, Clean(request.Path), ex.GetType().Name, SecretRedactor.Redact(ex.Message));
            response = ApiResults.Problem(500, "internal", "Internal error", "The server failed to handle this request; it was logged. Try again, and report it if it persists.");
        }

        if (request.Method != "GET")
        {
            if (who.Caller == "anonymous" && response.Status >= 400)
            {
                // Unauthenticated noise is counted, not written a blob per request.
                await audit.CountRefusedAsync(response.Status, Host).ConfigureAwait(false);
            }
            else
            {
                await audit.RecordAsync(new AuditEntry(time.GetUtcNow(), Host, who.Caller, $"{Clean(request.Method)} {Clean(request.Path)}", who.Target,
                    response.Status < 400 ? "ok" : $"refused ({response.Status.ToString(CultureInfo.InvariantCulture)})", $"from {Clean(request.RemoteAddress)}{(who.OperationId is null ? string.Empty : $", operation {who.OperationId}")}")).ConfigureAwait(false);
            }
        }

        return response;
    }

    /// <summary>What the audit record says of a request, filled in as it is handled (also when it fails).</summary>
    private sealed class AuditFacts
    {
        public string Caller { get; set; } = "anonymous";

        public string? OperationId { get; set; }

        public string? Target { get; set; }
    }

    private async Task<ApiResponse> RouteAsync(ApiRequest request, IOperationService operations, AuditFacts who, CancellationToken cancellationToken)
    {
        if (request.Body.Length > options.Api.MaxBodyBytes)
        {
            return ApiResults.Problem(413, "too-large", "The body is too large", $"Request bodies are limited to {options.Api.MaxBodyBytes} bytes.");
        }

        var segments = request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length < 2 || segments[0] != "api" || segments.Any(s => s.Length > 200))
        {
            return NotFound();
        }

        // The route's template: the names in the path, ids as {}.
        var route = segments[1..] switch
        {
            ["backups", _, _] => "backups/{}/{}",
            ["operations", _, .. var tail] => string.Join('/', ["operations", "{}", .. tail]),
            ["drills", _] => "drills/{}",
            var names => string.Join('/', names),
        };
        string[] allowed = route switch
        {
            "health" => ["GET"],
            "backups" => ["GET", "POST"],
            "backups/{}/{}" => ["GET"],
            "restores" or "verifications" or "operations/{}/approve" or "operations/{}/reject" or "slack/commands" => ["POST"],
            "operations/{}" or "drills/{}" => ["GET"],
            "drills" => ["GET", "POST"],
            _ => [],
        };
        if (allowed.Length == 0)
        {
            return NotFound();
        }

        if (!allowed.Contains(request.Method))
        {
            return ApiResults.Problem(405, "method-not-allowed", "Method not allowed", $"{Clean(request.Method)} is not allowed here; use {string.Join(" or ", allowed)}.",
                new Dictionary<string, string> { ["Allow"] = string.Join(", ", allowed) });
        }

        if (route == "health")
        {
            return await HealthAsync(cancellationToken).ConfigureAwait(false);
        }

        if (route == "slack/commands")
        {
            var (slack, slackCaller, slackOperation) = await SlackAsync(request, operations, cancellationToken).ConfigureAwait(false);
            (who.Caller, who.OperationId) = (slackCaller, slackOperation);
            return slack;
        }

        var caller = await authenticator.AuthenticateKeyAsync(request.Headers, cancellationToken).ConfigureAwait(false);
        if (caller is null)
        {
            return ApiResults.Problem(401, "unauthenticated", "Authentication required", "Send a valid API key as 'Authorization: Bearer <key>'.",
                new Dictionary<string, string> { ["WWW-Authenticate"] = "Bearer" });
        }

        who.Caller = caller.Name;
        if (request.Method == "POST" && route is not ("operations/{}/approve" or "operations/{}/reject") && !IsJson(request))
        {
            return ApiResults.Problem(415, "unsupported-media-type", "JSON expected", "Send the body as application/json.");
        }

        (ApiResponse Response, string? OperationId) response = route switch
        {
            "backups" when request.Method == "GET" => await ListAsync(request, cancellationToken).ConfigureAwait(false),
            "backups/{}/{}" => await ShowAsync(Decode(segments[2]), Decode(segments[3]), cancellationToken).ConfigureAwait(false),
            "operations/{}" => await OperationAsync(operations, Decode(segments[2]), cancellationToken).ConfigureAwait(false),
            "operations/{}/approve" => await ApproveAsync(operations, Decode(segments[2]), caller, cancellationToken).ConfigureAwait(false),
            "operations/{}/reject" => await RejectAsync(operations, Decode(segments[2]), caller, cancellationToken).ConfigureAwait(false),
            "drills" when request.Method == "GET" => await ListDrillsAsync(cancellationToken).ConfigureAwait(false),
            "drills/{}" => await DrillAsync(operations, Decode(segments[2]), request.Query.GetValueOrDefault("format") ?? "json", cancellationToken).ConfigureAwait(false),
            _ => await StartAsync(operations, route, request, caller, who, cancellationToken).ConfigureAwait(false),
        };
        who.OperationId = response.OperationId;
        return response.Response;
    }

    private async Task<(ApiResponse Response, string? OperationId)> StartAsync(IOperationService operations, string route, ApiRequest request, ApiCaller caller, AuditFacts who, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var id = operations.NewId(route == "drills" ? OperationKinds.Drill : "op");
        OperationRecord record;
        switch (route)
        {
            case "backups":
            {
                var body = Parse<BackupBody>(request);
                RequireDatabase(body.Database);
                if (body.Label is not null && !BackupEngine.IsValidLabel(body.Label))
                {
                    throw Bad("bad-label", $"The label must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
                }

                record = new OperationRecord { Id = id, Kind = OperationKinds.Backup, Database = body.Database, Label = body.Label, Status = OperationStatus.Queued, CreatedBy = caller.Name, CreatedAt = now, UpdatedAt = now };
                break;
            }

            case "restores":
            {
                var body = Parse<RestoreBody>(request);
                body = body with { Target = body.Target ?? "scratch" };
                RequireDatabase(body.Database);
                var backup = await ResolveRestoreBackupAsync(body.Database, body.Backup, now, cancellationToken).ConfigureAwait(false);
                var scratch = body.Target == "scratch";
                if (!scratch)
                {
                    if (!options.Databases.ContainsKey(body.Target))
                    {
                        throw Bad("bad-target", "The target is \"scratch\" (a new scratch database) or the name of a catalogued database.");
                    }

                    if (body.Confirm != body.Target)
                    {
                        throw Bad("confirmation-required", $"Restoring into '{body.Target}' overwrites a real database: repeat its name in \"confirm\". A second caller must then approve the operation before it starts, and '{body.Target}' is backed up first.");
                    }
                }

                record = new OperationRecord
                {
                    Id = id, Kind = OperationKinds.Restore, Database = body.Database, Backup = backup, Target = body.Target,
                    Status = scratch ? OperationStatus.Queued : OperationStatus.AwaitingApproval, CreatedBy = caller.Name, CreatedAt = now, UpdatedAt = now,
                    ApprovalDeadline = scratch ? null : now.AddHours(options.Api.ApprovalTimeoutHours),
                };
                break;
            }

            case "drills":
            {
                var body = Parse<DrillBody>(request);
                if (body.Databases is { Count: 0 })
                {
                    throw Bad("bad-drill", "databases is empty: name at least one catalogued database, or leave the field out to drill every database.");
                }

                foreach (var database in body.Databases ?? [])
                {
                    RequireDatabase(database);
                }

                if (body.MaxParallel is < 1 or > 32 || body.DeadlineMinutes is < 1 or > 7 * 24 * 60)
                {
                    throw Bad("bad-drill", "maxParallel is 1-32 and deadlineMinutes 1 to 10080 (a week).");
                }

                var level = body.Level?.ToLowerInvariant() ?? "assertions";
                if (level is not ("census" or "assertions"))
                {
                    throw Bad("bad-level", "A drill verifies at least the census: the level is census or assertions.");
                }

                var input = drills.CreateInput(body.Databases, body.MaxParallel ?? 2, body.DeadlineMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : null,
                    Enum.Parse<VerificationLevel>(level, ignoreCase: true)) with { DrillId = id };
                record = new OperationRecord { Id = id, Kind = OperationKinds.Drill, Database = input.Databases[0].Database, Level = level, Drill = input, Status = OperationStatus.Queued, CreatedBy = caller.Name, CreatedAt = now, UpdatedAt = now };
                break;
            }

            default:
            {
                var body = Parse<VerificationBody>(request);
                body = body with { Backup = body.Backup ?? "latest", Level = body.Level ?? "assertions" };
                RequireDatabase(body.Database);
                await RequireBackupAsync(body.Database, body.Backup, cancellationToken).ConfigureAwait(false);
                var level = body.Level.ToLowerInvariant();
                if (!Levels.Contains(level))
                {
                    throw Bad("bad-level", "The level is archive, restore, census or assertions.");
                }

                record = new OperationRecord { Id = id, Kind = OperationKinds.Verification, Database = body.Database, Backup = body.Backup, Level = level, Status = OperationStatus.Queued, CreatedBy = caller.Name, CreatedAt = now, UpdatedAt = now };
                break;
            }
        }

        who.Target = record.Target is null or "scratch" ? $"{record.Database} {record.Backup}".TrimEnd() : $"{record.Database} {record.Backup} into {record.Target}";
        string? reservationKey = null;
        if (request.Headers.TryGetValue("Idempotency-Key", out var idempotencyKey))
        {
            if (idempotencyKey.Length is 0 or > 200 || idempotencyKey.Any(c => c < 0x21 || c > 0x7e))
            {
                throw Bad("bad-idempotency-key", "The Idempotency-Key header is 1-200 visible ASCII characters.");
            }

            var reservation = $"{OperationStore.Prefix}idempotency/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{caller.Name}\n{route}\n{idempotencyKey}")))}";
            var bodyHash = Convert.ToHexStringLower(SHA256.HashData(request.Body.Span));
            var (replay, reserved) = await ReserveAsync(operations, reservation, new IdempotencyReservation(id, bodyHash, now), cancellationToken).ConfigureAwait(false);
            if (replay is not null)
            {
                return (replay, null);
            }

            reservationKey = reserved ? reservation : null;
        }

        OperationSubmission submission;
        try
        {
            submission = await operations.SubmitAsync(record, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await ForgetReservationAsync(reservationKey).ConfigureAwait(false);
            throw;
        }

        var (submitted, conflict) = submission;
        if (conflict)
        {
            // Nothing was started for this key: a retry with it, once the database is free, may start the operation.
            await ForgetReservationAsync(reservationKey).ConfigureAwait(false);
            return (ApiResults.Problem(409, "already-running", "Another operation on this database is running",
                $"A {submitted.Kind} of '{submitted.Database}' ({submitted.Id}) is {submitted.Status}; one backup or restore per database runs at a time. Poll it, then try again.",
                extensions: new Dictionary<string, string> { ["operationId"] = submitted.Id, ["statusUrl"] = StatusUrl(submitted.Id) }), submitted.Id);
        }

        return (Accepted(submitted), submitted.Id);
    }

    /// <summary>What an Idempotency-Key reserves: the operation it started, bound to the request body that started it.</summary>
    internal sealed record IdempotencyReservation(string OperationId, string BodySha256, DateTimeOffset At);

    /// <summary>
    /// Reserves an Idempotency-Key (signed, create-only, in the store, so every instance sees it).
    /// Returns the answer for a replay of the same request (its operation), a 422 for the key
    /// reused with another body, or (null, true) when this request holds the key now. A reservation
    /// whose operation was never recorded (its submitter died) is taken over after a grace period.
    /// </summary>
    private async Task<(ApiResponse? Replay, bool Reserved)> ReserveAsync(IOperationService operations, string key, IdempotencyReservation mine, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await store.WriteSignedJsonAsync(signer, key, mine, overwrite: false, cancellationToken).ConfigureAwait(false))
            {
                return (null, true);
            }

            var read = await store.ReadSignedJsonAsync<IdempotencyReservation>(signer, key, cancellationToken).ConfigureAwait(false);
            if (!read.Exists)
            {
                continue; // released in between: try again
            }

            if (!read.Trusted)
            {
                logger.LogWarning("[sbk.untrusted-object] {Problem}", read.Problem);
                throw Bad("idempotency-key-unusable", "This Idempotency-Key's reservation in the store does not authenticate; send the request with a new key.", 409);
            }

            var theirs = read.Value!;
            if (theirs.BodySha256 != mine.BodySha256)
            {
                throw Bad("idempotency-key-reused", "This Idempotency-Key was already used for a different request; a key names one request. Use a new key for this one.", 422);
            }

            // The reservation is written just before the record: wait a moment for a concurrent twin.
            for (var i = 0; i < 40; i++)
            {
                if (await operations.GetAsync(theirs.OperationId, cancellationToken).ConfigureAwait(false) is { } existing)
                {
                    return (Accepted(existing, new Dictionary<string, string> { ["Idempotent-Replayed"] = "true" }), false);
                }

                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }

            // Reserved but never recorded (its submitter failed or died): take the key over.
            if (time.GetUtcNow() - theirs.At > TimeSpan.FromSeconds(10))
            {
                await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new SbkException(SbkErrorKind.Failed, "A request with this Idempotency-Key is being started by another caller right now; send it again in a few seconds.", isTransient: true);
    }

    private async Task ForgetReservationAsync(string? key)
    {
        if (key is null)
        {
            return;
        }

        try
        {
            await store.DeleteAsync(key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (SbkException ex)
        {
            logger.LogWarning("Could not release the Idempotency-Key reservation {Key}: {Message}", key, ex.Message);
        }
    }

    private async Task<(ApiResponse, string?)> ApproveAsync(IOperationService operations, string id, ApiCaller caller, CancellationToken cancellationToken)
    {
        var record = await FindOperationAsync(operations, id, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return (OperationNotFound(), null);
        }

        if (record.Status != OperationStatus.AwaitingApproval)
        {
            return (ApiResults.Problem(409, "not-awaiting-approval", "Nothing to approve", $"Operation {record.Id} is {record.Status}; only restores into real databases wait for approval."), record.Id);
        }

        if (record.CreatedBy == caller.Name)
        {
            return (ApiResults.Problem(403, "second-approver-required", "A second caller must approve",
                $"{caller.Name} started this restore into '{record.Target}'; a different caller must approve it."), record.Id);
        }

        var (approved, conflict) = await operations.ApproveAsync(record, caller.Name, cancellationToken).ConfigureAwait(false);
        if (conflict)
        {
            return (ApiResults.Problem(409, "already-running", "Another operation on this database is running", $"Operation {approved.Id} on '{approved.Database}' is {approved.Status}; approve again when it has ended."), record.Id);
        }

        return approved.Status == OperationStatus.Expired
            ? (ApiResults.Problem(409, "expired", "Too late to approve", $"Operation {record.Id} waited for approval until {record.ApprovalDeadline:u} and expired; nothing was changed. Start the restore again."), record.Id)
            : (Accepted(approved), approved.Id);
    }

    private static async Task<(ApiResponse, string?)> RejectAsync(IOperationService operations, string id, ApiCaller caller, CancellationToken cancellationToken)
    {
        var record = await FindOperationAsync(operations, id, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return (OperationNotFound(), null);
        }

        if (record.Status != OperationStatus.AwaitingApproval)
        {
            return (ApiResults.Problem(409, "not-awaiting-approval", "Nothing to reject", $"Operation {record.Id} is {record.Status}; only restores waiting for approval can be rejected."), record.Id);
        }

        var rejected = await operations.RejectAsync(record, caller.Name, cancellationToken).ConfigureAwait(false);
        return (ApiResults.Ok(rejected.View(StatusUrl(rejected.Id))), rejected.Id);
    }

    private async Task<(ApiResponse, string?)> OperationAsync(IOperationService operations, string id, CancellationToken cancellationToken)
    {
        var record = await FindOperationAsync(operations, id, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return (OperationNotFound(), null);
        }

        if (record.IsFinished)
        {
            // The operation may have ended in another process (a Durable activity): whoever learns it ended lists afresh.
            InvalidateReads();
        }

        if (record is { Kind: OperationKinds.Verification, Status: OperationStatus.Succeeded } && record.Result is { } result
            && Enum.TryParse<VerificationLevel>(result.GetProperty("level").GetString(), ignoreCase: true, out var level))
        {
            // The full report (tables, counts, checks) is sealed beside the backup; it is opened for this authenticated caller only.
            var report = await backups.ReadVerificationAsync(record.Database, result.GetProperty("backupId").GetString()!, level, cancellationToken).ConfigureAwait(false);
            var view = JsonSerializer.SerializeToNode(record.View(StatusUrl(record.Id)), ApiResults.Json.Info<OperationRecord.OperationView>())!.AsObject();
            view["report"] = JsonSerializer.SerializeToNode(report, ApiResults.Json.Info<VerificationReport?>());
            return (ApiResults.Ok(view), null);
        }

        return (ApiResults.Ok(record.View(StatusUrl(record.Id))), null);
    }

    private static async Task<OperationRecord?> FindOperationAsync(IOperationService operations, string id, CancellationToken cancellationToken) =>
        IsOperationId(id) ? await operations.GetAsync(id, cancellationToken).ConfigureAwait(false) : null;

    private static bool IsOperationId(string id) =>
        (id.StartsWith("op-", StringComparison.Ordinal) && BackupId.IsValid(id[3..])) || (id.StartsWith("drill-", StringComparison.Ordinal) && BackupId.IsValid(id["drill-".Length..]));

    private async Task<(ApiResponse, string?)> ListDrillsAsync(CancellationToken cancellationToken)
    {
        var list = await drills.ListAsync(cancellationToken).ConfigureAwait(false);
        return (ApiResults.Ok(new DrillList(list.Take(50).Select(d => new DrillListItem(d.DrillId, d.StartedAt, d.Passed, d.Databases, "/api/drills/" + d.DrillId)))), null);
    }

    private async Task<(ApiResponse, string?)> DrillAsync(IOperationService operations, string id, string format, CancellationToken cancellationToken)
    {
        if (format is not ("json" or "md" or "html"))
        {
            throw Bad("bad-format", "format is json, md or html.");
        }

        if (!id.StartsWith("drill-", StringComparison.Ordinal) || !BackupId.IsValid(id["drill-".Length..]))
        {
            return (ApiResults.Problem(404, "drill-not-found", "No such drill", "Drill ids look like drill-20261121T084627Z-k3f9x2; GET /api/drills lists them."), null);
        }

        try
        {
            var text = await drills.ReadAsync(id, format, cancellationToken).ConfigureAwait(false);
            return (format == "json"
                ? new ApiResponse(200, Encoding.UTF8.GetBytes(text), "application/json; charset=utf-8", new Dictionary<string, string>())
                : new ApiResponse(200, Encoding.UTF8.GetBytes(text), format == "md" ? "text/markdown; charset=utf-8" : "text/html; charset=utf-8",
                    new Dictionary<string, string> { ["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:", ["X-Content-Type-Options"] = "nosniff" }), null);
        }
        catch (SbkException ex) when (ex.Kind == SbkErrorKind.NotFound)
        {
            // Not stored yet: a drill that is still running answers with its status.
            return await operations.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } running
                ? (ApiResults.Ok(running.View(StatusUrl(running.Id)), running.IsFinished ? 200 : 202, new Dictionary<string, string> { ["Retry-After"] = "30" }), running.Id)
                : (ApiResults.Problem(404, "drill-not-found", "No such drill", $"There is no drill {id}; GET /api/drills lists them."), null);
        }
    }

    private async Task<(ApiResponse, string?)> ListAsync(ApiRequest request, CancellationToken cancellationToken)
    {
        var database = request.Query.GetValueOrDefault("database");
        if (database is not null)
        {
            RequireDatabase(database);
        }

        var limit = 50;
        if (request.Query.TryGetValue("limit", out var limitText) && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 200))
        {
            throw Bad("bad-limit", "limit is a whole number from 1 to 200.");
        }

        var before = request.Query.GetValueOrDefault("before");
        if (before is not null && !BackupId.IsValid(before))
        {
            throw Bad("bad-cursor", "before is a backup id (from nextBefore of the previous page).");
        }

        var now = time.GetUtcNow();
        // Shared reads are not cancelled by one caller going away.
        var all = (await SharedReadAsync("list:" + (database ?? "*"), () => backups.ListAsync(database, CancellationToken.None)).ConfigureAwait(false)).ToList();
        var start = before is null ? 0 : all.FindIndex(b => b.BackupId == before) + 1;
        var page = all.Skip(start).Take(limit).ToList();
        var items = page.Select(b => new BackupPageItem(
            b.Database, b.BackupId, b.StartedAt, b.SnapshotTime, b.Label, b.ArchiveLength, b.DumpLength, Math.Round((now - b.StartedAt).TotalHours, 2),
            b.Verified?.Level.ToString().ToLowerInvariant(), b.Verified?.VerifiedAt));
        return (ApiResults.Ok(new BackupPage(items, start + page.Count < all.Count ? page[^1].BackupId : null)), null);
    }

    private async Task<(ApiResponse, string?)> ShowAsync(string database, string backup, CancellationToken cancellationToken)
    {
        RequireDatabase(database);
        await RequireBackupAsync(database, backup, cancellationToken).ConfigureAwait(false);
        var details = await backups.ShowAsync(database, backup, cancellationToken).ConfigureAwait(false);
        var m = details.Manifest;
        var census = details.Private.Census;
        return (ApiResults.Ok(new BackupView(
            m.Database, m.BackupId, m.Label, m.StartedAt, m.CompletedAt, m.SnapshotTime, m.SnapshotShared, m.Archive.Length, m.Archive.DumpLength, m.Archive.Sha256,
            m.Source.ServerVersion, m.Source.PgDumpVersion, new CensusView(census.Mode, census.Tables.Count, census.TotalRows, census.Sequences.Count), m.Warnings)), null);
    }

    private async Task<ApiResponse> HealthAsync(CancellationToken cancellationToken)
    {
        try
        {
            var statuses = await SharedReadAsync("status", () => scheduler.GetStatusAsync(CancellationToken.None)).ConfigureAwait(false);
            var ok = statuses.Count(s => s.State == FreshnessState.Ok);
            var body = new Health(ok == statuses.Count ? "ok" : "degraded", ok, statuses.Count(s => s.State == FreshnessState.Late), statuses.Count(s => s.State == FreshnessState.Failing));
            return ApiResults.Ok(body, ok == statuses.Count ? 200 : 503);
        }
        catch (Exception ex) when (ex is SbkException or IOException or Azure.RequestFailedException)
        {
            // No detail that helps an attacker: the log has it.
            logger.LogWarning("Health check failed: {Message}", SecretRedactor.Redact(ex.Message));
            return ApiResults.Ok(new Unavailable("unavailable"), 503, new Dictionary<string, string> { ["Retry-After"] = "30" });
        }
    }

    private void RequireDatabase(string? database)
    {
        if (string.IsNullOrEmpty(database))
        {
            throw Bad("missing-database", "\"database\" is required: the catalog name of a database.");
        }

        if (!options.Databases.ContainsKey(database))
        {
            throw new SbkException(SbkErrorKind.NotFound, $"There is no database named '{Clean(database)}' in the catalog. Valid names: {string.Join(", ", options.Databases.Keys.Order(StringComparer.Ordinal))}.");
        }
    }

    /// <summary>
    /// A restore's backup: "latest" or an id (checked to exist), or <c>{"before": TIME}</c>, resolved
    /// here to the id of the newest backup taken before TIME, so that an approver approves one
    /// precise backup.
    /// </summary>
    private async Task<string> ResolveRestoreBackupAsync(string database, JsonElement? backup, DateTimeOffset now, CancellationToken cancellationToken)
    {
        switch (backup)
        {
            case null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }:
                await RequireBackupAsync(database, "latest", cancellationToken).ConfigureAwait(false);
                return "latest";
            case { ValueKind: JsonValueKind.String } text:
                await RequireBackupAsync(database, text.GetString(), cancellationToken).ConfigureAwait(false);
                return text.GetString()!;
            case { ValueKind: JsonValueKind.Object } spec when spec.EnumerateObject().Count() == 1 && spec.TryGetProperty("before", out var before) && before.ValueKind == JsonValueKind.String:
                DateTimeOffset instant;
                try
                {
                    instant = Instant.Parse(before.GetString()!, now);
                }
                catch (SbkException ex)
                {
                    throw Bad("bad-before", ex.Message);
                }

                return (await backups.ShowBeforeAsync(database, instant, cancellationToken).ConfigureAwait(false)).Manifest.BackupId;
            default:
                throw Bad("bad-backup-id", "backup is \"latest\", a backup id such as 20261121T084627Z-k3f9x2, or {\"before\": \"2026-11-30T14:05Z\"} (also \"2h\" for two hours ago).");
        }
    }

    private async Task RequireBackupAsync(string database, string? backup, CancellationToken cancellationToken)
    {
        if (backup is null || (!string.Equals(backup, "latest", StringComparison.OrdinalIgnoreCase) && !BackupId.IsValid(backup)))
        {
            throw Bad("bad-backup-id", "backup is \"latest\" or a backup id such as 20261121T084627Z-k3f9x2.");
        }

        await backups.ResolveBackupIdAsync(database, backup!, cancellationToken).ConfigureAwait(false);
    }

    private T Parse<T>(ApiRequest request)
    {
        if (request.Body.Length == 0)
        {
            throw Bad("empty-body", "The request needs a JSON body.");
        }

        var info = Strict.Info<T>();
        try
        {
            return JsonSerializer.Deserialize(request.Body.Span, info) ?? throw Bad("empty-body", "The request needs a JSON object, not null.");
        }
        catch (JsonException ex) when (ex.Path is { } path && ConvertedTo().IsMatch(ex.Message) && ExpectedAt(info, path) is { } expected)
        {
            // The generated code names the object it was reading, not the field's type; the field's type is what the caller got wrong.
            throw new JsonException($"The JSON value could not be converted to {expected}. Path: {path}", path, ex.LineNumber, ex.BytePositionInLine, ex);
        }
    }

    /// <summary>The .NET type of the field at a JSON path such as <c>$.databases[0].name</c>, from the generated contract; null when the path leaves it.</summary>
    private static Type? ExpectedAt(System.Text.Json.Serialization.Metadata.JsonTypeInfo root, string path)
    {
        var info = root;
        Type? type = null;
        foreach (var segment in path.TrimStart('$').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            if (type is not null)
            {
                info = Strict.GetTypeInfo(type);
            }

            var bracket = segment.IndexOf('[', StringComparison.Ordinal);
            var name = bracket < 0 ? segment : segment[..bracket];
            type = info.Properties.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))?.PropertyType;
            for (var i = bracket; type is not null && i >= 0; i = segment.IndexOf('[', i + 1))
            {
                type = Strict.GetTypeInfo(type).ElementType;
            }

            if (type is null)
            {
                return null;
            }
        }

        return type;
    }

    private static bool IsJson(ApiRequest request) =>
        request.Headers.TryGetValue("Content-Type", out var type) && type.Split(';')[0].Trim().Equals("application/json", StringComparison.OrdinalIgnoreCase);

    private ApiResponse Accepted(OperationRecord record, IReadOnlyDictionary<string, string>? extra = null)
    {
        var headers = new Dictionary<string, string>(extra ?? new Dictionary<string, string>()) { ["Location"] = StatusUrl(record.Id) };
        return ApiResults.Ok(record.View(StatusUrl(record.Id)), 202, headers);
    }

    private static string StatusUrl(string id) => "/api/operations/" + id;

    private static ApiResponse NotFound() => ApiResults.Problem(404, "not-found", "No such endpoint", "See the API reference in README.md for the endpoints.");

    private static ApiResponse OperationNotFound() => ApiResults.Problem(404, "operation-not-found", "No such operation", "There is no operation with this id.");

    private static SbkException Bad(string type, string detail, int status = 400) => new ApiBadRequest(type, detail, status);

    private static ApiResponse FromException(SbkException ex) => ex switch
    {
        ApiBadRequest bad => ApiResults.Problem(bad.Status, bad.Type, bad.Status == 400 ? "Bad request" : "Refused", bad.Message),
        { Kind: SbkErrorKind.NotFound } => ApiResults.Problem(404, "not-found", "Not found", SecretRedactor.Redact(ex.Message)),
        { Kind: SbkErrorKind.Configuration } => ApiResults.Problem(422, "refused", "Refused", SecretRedactor.Redact(ex.Message)),
        { Kind: SbkErrorKind.AlreadyRunning } => ApiResults.Problem(409, "already-running", "Already running", SecretRedactor.Redact(ex.Message)),
        { Kind: SbkErrorKind.Integrity } => ApiResults.Problem(409, "integrity", "The backup does not authenticate", SecretRedactor.Redact(ex.Message)),
        _ => ApiResults.Problem(503, "unavailable", "A dependency failed", SecretRedactor.Redact(ex.Message), new Dictionary<string, string> { ["Retry-After"] = "30" }),
    };

    private static string Decode(string segment)
    {
        try
        {
            return Uri.UnescapeDataString(segment);
        }
        catch (UriFormatException)
        {
            return segment;
        }
    }

    /// <summary>Printable, short, for messages and the audit log (request text is hostile until proven otherwise).</summary>
    internal static string Clean(string text) => BackupEngine.Sanitize(new string(text.Select(c => char.IsControl(c) || char.IsSurrogate(c) || c is '\u202e' or '\u200b' ? '?' : c).ToArray()));

    private static string FirstSentence(string message) => message.Split(". ")[0].Split(" Path:")[0];

    /// <summary>
    /// What was wrong with a body, in the caller's terms: System.Text.Json names the .NET type it
    /// wanted ("could not be converted to System.Nullable`1[System.Double]"), which says nothing to
    /// a bot's author and describes sbk's insides; the JSON kind expected, or the unknown field, does.
    /// </summary>
    private static string DescribeJsonError(string message)
    {
        if (ConvertedTo().Match(message) is { Success: true } converted)
        {
            return $"expected {Diagnostics.ValueKind.Of(converted.Groups[1].Value) ?? "another kind of value"} here.";
        }

        if (UnknownMember().Match(message) is { Success: true } unknown)
        {
            return $"'{Clean(unknown.Groups[1].Value)}' is not a field of this request.";
        }

        return Clean(FirstSentence(message));
    }

    [GeneratedRegex(@"could not be converted to (\S+?)\.(?:\s|$)")]
    private static partial Regex ConvertedTo();

    [GeneratedRegex(@"The JSON property '([^']{0,100})' could not be mapped")]
    private static partial Regex UnknownMember();

    private sealed class ApiBadRequest(string type, string message, int status) : SbkException(SbkErrorKind.Configuration, message)
    {
        public string Type { get; } = type;

        public int Status { get; } = status;
    }
}
