using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ServerlessBackup.Catalog;
using Microsoft.Extensions.DependencyInjection;
using ServerlessBackup.Backups;
using ServerlessBackup.Storage;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>
/// The HTTP API suite, against real PostgreSQL and Azurite. Every test runs on both hosts: `sbk
/// serve` on Kestrel (<see cref="ServeApiTests"/>) and the Functions app's HTTP functions with
/// Durable operations (<see cref="FunctionsApiTests"/>), so both answer every request the same way.
/// </summary>
public abstract class ApiSuite
{
    protected const string AliceKey = "alice-Key-Canary-5a1b2c3d4e";
    protected const string BobKey = "bob-Key-Canary-9f8e7d6c5b";
    protected const string SlackSecret = "slack-Signing-Canary-0f1e2d";

    /// <summary>Starts the host under test over the catalog's options; returns its HTTP client and services.</summary>
    protected abstract Task<(HttpClient Http, IServiceProvider Services, IAsyncDisposable Host)> StartHostAsync(SbkOptions options, string directory);

    private protected sealed class Server : IAsyncDisposable
    {
        public required TestCatalog Catalog { get; init; }

        public required TestDatabase Source { get; init; }

        public required IAsyncDisposable Host { get; init; }

        public required IServiceProvider Services { get; init; }

        public required HttpClient Http { get; init; }

        public List<string> Bodies { get; } = [];

        public IObjectStore Store => Services.GetRequiredService<IObjectStore>();

        public BackupEngine Backups => Services.GetRequiredService<BackupEngine>();

        public SbkOptions Options => Services.GetRequiredService<SbkOptions>();

        public async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, object? body = null, string? key = AliceKey, Dictionary<string, string>? headers = null, string? rawBody = null, string contentType = "application/json")
        {
            using var request = new HttpRequestMessage(method, path);
            if (key is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }

            foreach (var (name, value) in headers ?? [])
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            if (body is not null || rawBody is not null)
            {
                request.Content = new StringContent(rawBody ?? JsonSerializer.Serialize(body), Encoding.UTF8);
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            }

            var response = await Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Bodies.Add(text);
            var json = text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.EndsWith("json", StringComparison.Ordinal) == true ? JsonDocument.Parse(text).RootElement.Clone() : default;
            return (response.StatusCode, json, response);
        }

        public async Task<JsonElement> PollAsync(string operationId, string key = AliceKey)
        {
            for (var i = 0; i < 1200; i++)
            {
                var (_, body, _) = await SendAsync(HttpMethod.Get, "/api/operations/" + operationId, key: key);
                if (body.GetProperty("status").GetString() is "succeeded" or "failed" or "expired" or "rejected")
                {
                    return body;
                }

                await Task.Delay(100);
            }

            throw new TimeoutException("The operation did not end within two minutes.");
        }

        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            await Source.DisposeAsync();
            Catalog.Dispose();
        }
    }

    private protected async Task<Server> StartAsync(Action<TestCatalog>? configure = null)
    {
        var catalog = await new TestCatalog().WithMasterKeyAsync();
        await catalog.WithScratchAsync();
        var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema);
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        await catalog.Secrets.SetSecretAsync("azurite", TestServers.AzuriteConnectionString());
        await catalog.Secrets.SetSecretAsync("key-alice", AliceKey);
        await catalog.Secrets.SetSecretAsync("key-bob", BobKey);
        await catalog.Secrets.SetSecretAsync("slack-signing", SlackSecret);
        var options = catalog.Options;
        options.Store = new StoreOptions { Kind = StoreKind.AzureBlob, ConnectionStringSecret = "azurite", Container = "api" + Guid.NewGuid().ToString("N")[..16] };
        options.Api.Keys.Add(new ApiKeyOptions { Name = "alice", KeySecret = "key-alice" });
        options.Api.Keys.Add(new ApiKeyOptions { Name = "bob", KeySecret = "key-bob" });
        options.Api.SlackSigningSecret = "slack-signing";
        configure?.Invoke(catalog);
        var (http, services, host) = await StartHostAsync(options, catalog.Directory);
        return new Server { Catalog = catalog, Source = source, Host = host, Services = services, Http = http };
    }

    [Fact]
    public async Task A_backup_and_a_verification_run_over_HTTP_from_start_to_a_passing_report()
    {
        await using var s = await StartAsync();

        var (status, started, response) = await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop", label = "pre-migration" });
        Assert.Equal(HttpStatusCode.Accepted, status);
        var operationId = started.GetProperty("operationId").GetString()!;
        Assert.Equal("/api/operations/" + operationId, response.Headers.Location!.ToString());
        var done = await s.PollAsync(operationId);
        Assert.True(done.GetProperty("status").GetString() == "succeeded", done.GetRawText());
        var backupId = done.GetProperty("result").GetProperty("backupId").GetString()!;

        var (_, list, _) = await s.SendAsync(HttpMethod.Get, "/api/backups?database=shop&limit=10");
        var item = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal(backupId, item.GetProperty("backupId").GetString());
        Assert.Equal("pre-migration", item.GetProperty("label").GetString());
        var (showStatus, show, _) = await s.SendAsync(HttpMethod.Get, $"/api/backups/shop/{backupId}");
        Assert.Equal(HttpStatusCode.OK, showStatus);
        Assert.Equal(3500, show.GetProperty("census").GetProperty("rows").GetInt64());
        // No key material leaves the server: not the wrapped data key, its salt or its commitment.
        var envelope = (await s.Backups.ShowAsync("shop", backupId)).Manifest.Key;
        foreach (var secretPart in new[] { envelope.WrappedKey, envelope.Salt, envelope.Commitment, envelope.WrapNonce })
        {
            Assert.DoesNotContain(secretPart, show.GetRawText(), StringComparison.Ordinal);
        }

        var (verifyStatus, verify, _) = await s.SendAsync(HttpMethod.Post, "/api/verifications", new { database = "shop", backup = backupId, level = "census" });
        Assert.Equal(HttpStatusCode.Accepted, verifyStatus);
        var verified = await s.PollAsync(verify.GetProperty("operationId").GetString()!);
        Assert.Equal("succeeded", verified.GetProperty("status").GetString());
        Assert.True(verified.GetProperty("result").GetProperty("passed").GetBoolean());
        Assert.Contains(verified.GetProperty("report").GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "Billing.invoices");
        // What is stored in clear about operations names no table and counts no rows.
        await foreach (var stored in s.Store.ListAsync("_operations/"))
        {
            await using var stream = await s.Store.OpenReadAsync(stored.Key);
            var text = await new StreamReader(stream).ReadToEndAsync();
            Assert.DoesNotContain("Billing", text, StringComparison.Ordinal);
            Assert.DoesNotContain("Customer Accounts", text, StringComparison.Ordinal);
        }

        var (_, listAfter, _) = await s.SendAsync(HttpMethod.Get, "/api/backups?database=shop");
        Assert.Equal("census", listAfter.GetProperty("items")[0].GetProperty("verifiedLevel").GetString());
        var (healthStatus, health, _) = await s.SendAsync(HttpMethod.Get, "/api/health", key: null);
        Assert.Equal(HttpStatusCode.OK, healthStatus);
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.False(health.GetRawText().Contains("shop", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Callers_are_authenticated_by_key_and_every_state_change_is_audited_with_their_name()
    {
        await using var s = await StartAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(HttpMethod.Get, "/api/backups", key: null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(HttpMethod.Get, "/api/backups", key: AliceKey + "x")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop" }, key: "")).Status);
        var (status, byBob, _) = await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop" }, key: BobKey);
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("bob", byBob.GetProperty("createdBy").GetString());
        await s.PollAsync(byBob.GetProperty("operationId").GetString()!, BobKey);
        var (unknown, problem, response) = await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "nosuch" });
        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("Valid names: shop", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Forty more anonymous attempts: counted, not written one object each.
        for (var i = 0; i < 40; i++)
        {
            await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop" }, key: "wrong-" + i);
        }

        var log = new Audit.AuditLog(s.Store, s.Services.GetRequiredService<Crypto.StateSigner>());
        var audit = new List<(Audit.AuditEntry Entry, bool Trusted)>();
        await foreach (var item in log.ReadAsync(DateTimeOffset.UtcNow.AddHours(-1)))
        {
            audit.Add(item);
        }

        Assert.All(audit, a => Assert.True(a.Trusted));
        Assert.Contains(audit, a => a.Entry.Caller == "bob" && a.Entry.Outcome == "ok" && a.Entry.Action == "POST /api/backups" && a.Entry.Target == "shop" && a.Entry.Detail!.Contains("operation op-", StringComparison.Ordinal));
        Assert.Contains(audit, a => a.Entry.Caller == "alice" && a.Entry.Outcome == "refused (404)" && a.Entry.Detail == "from 127.0.0.1");
        Assert.True(audit.Count(a => a.Entry.Caller == "anonymous") <= 1, "unauthenticated requests are aggregated per minute");
        Assert.All(audit.Where(a => a.Entry.Caller == "anonymous"), a => Assert.Equal("refused-requests", a.Entry.Action));
    }

    private static Dictionary<string, string> SlackHeaders(string body, long timestamp, string secret = SlackSecret)
    {
        var signature = "v0=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"v0:{timestamp}:{body}")));
        return new Dictionary<string, string> { ["X-Slack-Request-Timestamp"] = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture), ["X-Slack-Signature"] = signature };
    }

    [Fact]
    public async Task A_signed_Slack_command_is_acknowledged_at_once_and_its_outcome_posted_to_the_response_URL()
    {
        var posted = new TaskCompletionSource<string>();
        await using var receiver = await LoopbackServer.StartAsync((context, body) => { posted.TrySetResult(body); context.Response.StatusCode = 200; return Task.CompletedTask; });
        await using var s = await StartAsync(c => c.Options.Api.SlackResponseUrlPrefix = receiver.BaseUri.ToString());
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var form = $"token=x&team_id=T1&user_name=carol&command=%2Fsbk&text=backup+shop+nightly&response_url={Uri.EscapeDataString(new Uri(receiver.BaseUri, "/commands/1234/abcd").ToString())}";

        var (status, ack, _) = await s.SendAsync(HttpMethod.Post, "/api/slack/commands", key: null, headers: SlackHeaders(form, now), rawBody: form, contentType: "application/x-www-form-urlencoded");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ephemeral", ack.GetProperty("response_type").GetString());
        Assert.Contains("Backup of `shop` started", ack.GetProperty("text").GetString(), StringComparison.Ordinal);
        var message = await posted.Task.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Contains("Backup of `shop` done", message, StringComparison.Ordinal);
        Assert.Single(await s.Backups.ListAsync("shop"), b => b.Label == "nightly");

        // Wrong signature, stale timestamp, replay: refused.
        var help = "user_name=carol&text=help";
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(HttpMethod.Post, "/api/slack/commands", key: null, headers: SlackHeaders(help, now, "not-the-secret"), rawBody: help, contentType: "application/x-www-form-urlencoded")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(HttpMethod.Post, "/api/slack/commands", key: null, headers: SlackHeaders(help, now - 600), rawBody: help, contentType: "application/x-www-form-urlencoded")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(HttpMethod.Post, "/api/slack/commands", key: null, headers: SlackHeaders(form, now), rawBody: form, contentType: "application/x-www-form-urlencoded")).Status);
        var (helpStatus, helpBody, _) = await s.SendAsync(HttpMethod.Post, "/api/slack/commands", key: null, headers: SlackHeaders(help, now), rawBody: help, contentType: "application/x-www-form-urlencoded");
        Assert.Equal(HttpStatusCode.OK, helpStatus);
        Assert.Contains("Commands:", helpBody.GetProperty("text").GetString(), StringComparison.Ordinal);
        var statusCmd = "user_name=carol&text=status";
        var (_, statusBody, _) = await s.SendAsync(HttpMethod.Post, "/api/slack/commands", key: null, headers: SlackHeaders(statusCmd, now), rawBody: statusCmd, contentType: "application/x-www-form-urlencoded");
        Assert.Contains("`shop`: OK", statusBody.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    /// <summary>A server whose catalog also holds "prod" (a table 'precious' with one row), with one backup of shop taken.</summary>
    private async Task<Server> StartWithProdAsync(TestDatabase prod)
    {
        await prod.ExecuteAsync("CREATE TABLE precious (id int); INSERT INTO precious VALUES (1)");
        var s = await StartAsync();
        await s.Catalog.AddDatabaseAsync("prod", prod.ConnectionUri);
        s.Options.Databases["prod"] = s.Catalog.Options.Databases["prod"];
        var (_, backup, _) = await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop" });
        await s.PollAsync(backup.GetProperty("operationId").GetString()!);
        return s;
    }

    [Fact]
    public async Task A_restore_into_a_real_database_waits_for_a_second_caller_to_approve_it()
    {
        await using var prod = await TestDatabase.CreateAsync("prod");
        await using var s = await StartWithProdAsync(prod);

        Assert.Equal(HttpStatusCode.BadRequest, (await s.SendAsync(HttpMethod.Post, "/api/restores", new { database = "shop", target = "prod" })).Status);
        var (status, pending, _) = await s.SendAsync(HttpMethod.Post, "/api/restores", new { database = "shop", backup = "latest", target = "prod", confirm = "prod" });
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("awaiting-approval", pending.GetProperty("status").GetString());
        var id = pending.GetProperty("operationId").GetString()!;
        var approve = $"/api/operations/{id}/approve";

        var (selfStatus, self, _) = await s.SendAsync(HttpMethod.Post, approve, key: AliceKey);
        Assert.Equal(HttpStatusCode.Forbidden, selfStatus);
        Assert.Contains("a different caller must approve", self.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(1L, await prod.ScalarAsync<long>("SELECT count(*) FROM precious"));
        var (approvedStatus, approved, _) = await s.SendAsync(HttpMethod.Post, approve, key: BobKey);
        Assert.Equal(HttpStatusCode.Accepted, approvedStatus);
        Assert.Equal("bob", approved.GetProperty("approvedBy").GetString());
        var done = await s.PollAsync(id);

        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal(await s.Source.FingerprintAsync(), (await prod.FingerprintAsync()).Where(kv => kv.Key != "public.precious").ToDictionary());
        Assert.Single(await s.Backups.ListAsync("prod"), b => b.Label == "emergency");
        Assert.Equal(HttpStatusCode.Conflict, (await s.SendAsync(HttpMethod.Post, approve, key: BobKey)).Status);
        // The database it replaced is kept beside it for a swap back.
        var previous = done.GetProperty("result").GetProperty("previous").GetString()!;
        Assert.StartsWith("sbk_prev_", previous, StringComparison.Ordinal);
        await using var kept = TestDatabase.Attach(previous);
        Assert.Equal(1L, await kept.ScalarAsync<long>("SELECT count(*) FROM precious"));
    }

    [Fact]
    public async Task A_restore_can_name_the_newest_backup_before_an_instant_and_bad_instants_get_a_400()
    {
        await using var s = await StartAsync();
        var (_, backup, _) = await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop" });
        var taken = await s.PollAsync(backup.GetProperty("operationId").GetString()!);
        var backupId = taken.GetProperty("result").GetProperty("backupId").GetString()!;

        var (status, started, _) = await s.SendAsync(HttpMethod.Post, "/api/restores", new { database = "shop", backup = new { before = DateTimeOffset.UtcNow.AddMinutes(5).ToString("O") } });

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(backupId, started.GetProperty("backup").GetString());
        var done = await s.PollAsync(started.GetProperty("operationId").GetString()!);
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        await TestDatabase.Attach(done.GetProperty("result").GetProperty("target").GetString()!).DisposeAsync();

        var (tooEarly, tooEarlyBody, _) = await s.SendAsync(HttpMethod.Post, "/api/restores", new { database = "shop", backup = new { before = "2020-01-01T00:00:00Z" } });
        Assert.Equal(HttpStatusCode.NotFound, tooEarly);
        Assert.Contains($"the oldest is {backupId}", tooEarlyBody.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var (noZone, noZoneBody, _) = await s.SendAsync(HttpMethod.Post, "/api/restores", new { database = "shop", backup = new { before = "2026-11-30 10:00" } });
        Assert.Equal(HttpStatusCode.BadRequest, noZone);
        Assert.Contains("no time zone", noZoneBody.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var (tooFar, tooFarBody, _) = await s.SendAsync(HttpMethod.Post, "/api/restores", new { database = "shop", backup = new { before = "999999d" } });
        Assert.Equal(HttpStatusCode.BadRequest, tooFar);
        Assert.Contains("reaches back before the year 1", tooFarBody.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await s.SendAsync(HttpMethod.Post, "/api/restores", new { database = "shop", backup = new { after = "2h" } })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await s.SendAsync(HttpMethod.Post, "/api/restores", new { database = "shop", backup = 42 })).Status);
    }

    [Fact]
    public async Task An_idempotency_key_replays_the_same_operation_and_one_database_runs_one_backup_at_a_time()
    {
        await using var s = await StartAsync();
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = "bot-retry-7" };

        var (_, first, _) = await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop" }, headers: headers);
        var (replayStatus, replay, replayResponse) = await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop" }, headers: headers);
        Assert.Equal(HttpStatusCode.Accepted, replayStatus);
        Assert.Equal(first.GetProperty("operationId").GetString(), replay.GetProperty("operationId").GetString());
        Assert.True(replayResponse.Headers.Contains("Idempotent-Replayed"));
        await s.PollAsync(first.GetProperty("operationId").GetString()!);
        Assert.Single(await s.Backups.ListAsync("shop"));

        var racing = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop" })));
        Assert.Single(racing, r => r.Status == HttpStatusCode.Accepted);
        Assert.All(racing.Where(r => r.Status != HttpStatusCode.Accepted), r =>
        {
            Assert.Equal(HttpStatusCode.Conflict, r.Status);
            Assert.Equal("urn:sbk:problem:already-running", r.Body.GetProperty("type").GetString());
        });
        await s.PollAsync(racing.Single(r => r.Status == HttpStatusCode.Accepted).Body.GetProperty("operationId").GetString()!);
        Assert.Equal(2, (await s.Backups.ListAsync("shop")).Count);
    }

    [Fact]
    public async Task An_idempotency_key_is_bound_to_its_request_and_usable_again_after_a_conflict()
    {
        await using var s = await StartAsync();
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = "bot-" + Guid.NewGuid().ToString("N")[..8] };
        var (_, running, _) = await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop" });

        // The database is busy: 409, and nothing was started for the key...
        var (busy, _, _) = await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop", label = "nightly" }, headers: key);
        Assert.Equal(HttpStatusCode.Conflict, busy);
        await s.PollAsync(running.GetProperty("operationId").GetString()!);

        // ...so the same request with the same key starts it once the database is free.
        var (retried, started, _) = await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop", label = "nightly" }, headers: key);
        Assert.Equal(HttpStatusCode.Accepted, retried);
        // The key names that request: another body with it is refused, and it did not start anything.
        var (reused, problem, _) = await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop", label = "other" }, headers: key);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused);
        Assert.Equal("urn:sbk:problem:idempotency-key-reused", problem.GetProperty("type").GetString());
        await s.PollAsync(started.GetProperty("operationId").GetString()!);
        Assert.DoesNotContain(await s.Backups.ListAsync("shop"), b => b.Label == "other");
    }

    [Fact]
    public async Task A_forged_operation_record_awaiting_approval_cannot_be_approved_into_a_restore()
    {
        await using var prod = await TestDatabase.CreateAsync("prod");
        await using var s = await StartWithProdAsync(prod);
        // Mallory can write the storage account: she plants a restore into prod, "created by bob", awaiting approval.
        var id = "op-" + Backups.BackupId.New(DateTimeOffset.UtcNow);
        var now = DateTimeOffset.UtcNow;
        var forged = new Operations.OperationRecord
        {
            Id = id, Kind = "restore", Database = "shop", Backup = "latest", Target = "prod", Status = "awaiting-approval",
            CreatedBy = "bob", CreatedAt = now, UpdatedAt = now, ApprovalDeadline = now.AddHours(1),
        };
        var attacker = TestServers.AzuriteContainer(s.Options.Store.Container);
        await attacker.GetBlobClient($"_operations/{id}.json").UploadAsync(BinaryData.FromObjectAsJson(forged, new JsonSerializerOptions(JsonSerializerDefaults.Web)), overwrite: true);

        Assert.Equal(HttpStatusCode.NotFound, (await s.SendAsync(HttpMethod.Get, $"/api/operations/{id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await s.SendAsync(HttpMethod.Post, $"/api/operations/{id}/approve", key: AliceKey)).Status);

        await Task.Delay(1000);
        Assert.Equal(1L, await prod.ScalarAsync<long>("SELECT count(*) FROM precious"));
        Assert.Empty(await s.Backups.ListAsync("prod"));
    }

    [Fact]
    public async Task A_Slack_request_replayed_to_a_second_server_on_the_same_store_is_refused()
    {
        await using var s = await StartAsync();
        var (http2, _, host2) = await StartHostAsync(s.Options, s.Catalog.Directory);
        await using var second = host2;
        var help = "user_name=carol&text=help";
        var headers = SlackHeaders(help, DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        var (first, _, _) = await s.SendAsync(HttpMethod.Post, "/api/slack/commands", key: null, headers: headers, rawBody: help, contentType: "application/x-www-form-urlencoded");
        using var replay = new HttpRequestMessage(HttpMethod.Post, "/api/slack/commands") { Content = new StringContent(help, Encoding.UTF8, "application/x-www-form-urlencoded") };
        foreach (var (name, value) in headers)
        {
            replay.Headers.Add(name, value);
        }

        var replayed = await http2.SendAsync(replay);

        Assert.Equal(HttpStatusCode.OK, first);
        Assert.Equal(HttpStatusCode.Unauthorized, replayed.StatusCode);
        Assert.Contains("already received", await replayed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_drill_started_over_HTTP_runs_and_its_report_reads_as_JSON_Markdown_and_HTML()
    {
        await using var s = await StartAsync();
        var (_, backup, _) = await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop" });
        await s.PollAsync(backup.GetProperty("operationId").GetString()!);

        Assert.Equal(HttpStatusCode.BadRequest, (await s.SendAsync(HttpMethod.Post, "/api/drills", new { databases = new[] { "shop" }, level = "archive" })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await s.SendAsync(HttpMethod.Post, "/api/drills", new { databases = new[] { "nosuch" } })).Status);
        var (emptyStatus, empty, _) = await s.SendAsync(HttpMethod.Post, "/api/drills", new { databases = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.BadRequest, emptyStatus);
        Assert.Contains("leave the field out to drill every database", empty.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await s.SendAsync(HttpMethod.Post, "/api/drills", new { databases = new[] { "shop" }, deadlineMinutes = 1e-300 })).Status);
        var (_, fraction, _) = await s.SendAsync(HttpMethod.Post, "/api/drills", rawBody: "{\"maxParallel\": 2.5}");
        Assert.Equal("At $.maxParallel: expected a whole number here.", fraction.GetProperty("detail").GetString());
        var (status, started, response) = await s.SendAsync(HttpMethod.Post, "/api/drills", new { databases = new[] { "shop" }, level = "census", deadlineMinutes = 30 });
        Assert.Equal(HttpStatusCode.Accepted, status);
        var drillId = started.GetProperty("operationId").GetString()!;
        Assert.StartsWith("drill-", drillId, StringComparison.Ordinal);
        Assert.Equal("/api/drills/" + drillId, started.GetProperty("reportUrl").GetString());
        var done = await s.PollAsync(drillId);
        Assert.True(done.GetProperty("status").GetString() == "succeeded", done.GetRawText());
        Assert.Equal(1, done.GetProperty("result").GetProperty("passed").GetInt32());

        var (jsonStatus, report, _) = await s.SendAsync(HttpMethod.Get, $"/api/drills/{drillId}");
        Assert.Equal(HttpStatusCode.OK, jsonStatus);
        Assert.Equal("Passed", report.GetProperty("databases")[0].GetProperty("outcome").GetString());
        var (mdStatus, _, md) = await s.SendAsync(HttpMethod.Get, $"/api/drills/{drillId}?format=md");
        Assert.Equal(HttpStatusCode.OK, mdStatus);
        Assert.Equal("text/markdown", md.Content.Headers.ContentType!.MediaType);
        Assert.Contains("1 of 1", await md.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var (htmlStatus, _, html) = await s.SendAsync(HttpMethod.Get, $"/api/drills/{drillId}?format=html");
        Assert.Equal(HttpStatusCode.OK, htmlStatus);
        Assert.Equal("text/html", html.Content.Headers.ContentType!.MediaType);
        Assert.Contains("default-src 'none'", string.Join(" ", html.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await s.SendAsync(HttpMethod.Get, $"/api/drills/{drillId}?format=pdf")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await s.SendAsync(HttpMethod.Get, "/api/drills/drill-20200101T000000Z-aaaaaa")).Status);
        var (_, list, _) = await s.SendAsync(HttpMethod.Get, "/api/drills");
        Assert.Contains(list.GetProperty("items").EnumerateArray(), d => d.GetProperty("drillId").GetString() == drillId);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(HttpMethod.Get, $"/api/drills/{drillId}", key: null)).Status);
    }

    [Fact]
    public async Task Two_hundred_hostile_requests_get_4xx_problems_and_the_server_stays_healthy()
    {
        await using var s = await StartAsync();
        var (_, backup, _) = await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop" });
        await s.PollAsync(backup.GetProperty("operationId").GetString()!);
        string[] names = ["shop'; DROP TABLE users;--", "../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "shop\u0000", "sh\u200bop", "\u202eshop", "ѕhop", "shop%00", "SHOP", "", " ", "shop/../shop", "C:\\Windows", "${jndi:ldap://x}", "<script>alert(1)</script>", new string('a', 5000), "%F0%9F%92%A9", "shop\nX-Injected: 1", "*", "null"];
        string[] bodies = ["{", "}", "[]", "null", "\"shop\"", "42", "{\"database\":42}", "{\"database\":null}", "{\"database\":[\"shop\"]}", "{\"database\":{\"$ne\":1}}",
            "{\"database\":\"shop\",\"extra\":1}", "{\"database\":\"shop\",\"label\":\"bad label!\"}", "{\"database\":\"shop\",\"label\":123}", "{\"database\":\"shop\"}{\"database\":\"shop\"}",
            "{\"database\":\"shop\",}", "{'database':'shop'}", "{\"database\":\"shop\"/*c*/}", "\uFEFF{\"database\":\"shop\"}", "{\"database\":\"\\ud800\"}", "{\"Database\":\"shop\",\"database\":\"x\"}",
            "{\"database\":\"shop\",\"backup\":\"../../x\"}", "{\"database\":\"shop\",\"level\":\"everything\"}", "{\"database\":\"shop\",\"target\":\"postgres\",\"confirm\":\"postgres\"}",
            "{\"database\":\"shop\",\"backup\":\"20200101T000000Z-aaaaaa\"}", new string('[', 10000) + new string(']', 10000), "{\"database\":\"" + new string('x', 70_000) + "\"}"];
        var requests = new List<Func<Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)>>>();
        foreach (var path in new[] { "/api/backups", "/api/restores", "/api/verifications" })
        {
            requests.AddRange(bodies.Select(b => (Func<Task<(HttpStatusCode, JsonElement, HttpResponseMessage)>>)(() => s.SendAsync(HttpMethod.Post, path, rawBody: b))));
            requests.AddRange(names.Select(n => (Func<Task<(HttpStatusCode, JsonElement, HttpResponseMessage)>>)(() => s.SendAsync(HttpMethod.Post, path, new { database = n }))));
            requests.Add(() => s.SendAsync(HttpMethod.Post, path, rawBody: "{\"database\":\"shop\"}", contentType: "text/plain"));
            requests.Add(() => s.SendAsync(HttpMethod.Post, path, rawBody: "database=shop", contentType: "application/x-www-form-urlencoded"));
        }

        foreach (var n in names)
        {
            var escaped = Uri.EscapeDataString(n);
            requests.Add(() => s.SendAsync(HttpMethod.Get, "/api/backups?database=" + escaped));
            requests.Add(() => s.SendAsync(HttpMethod.Get, $"/api/backups/{escaped}/latest"));
            requests.Add(() => s.SendAsync(HttpMethod.Get, $"/api/backups/shop/{escaped}"));
            requests.Add(() => s.SendAsync(HttpMethod.Get, $"/api/operations/{escaped}"));
            requests.Add(() => s.SendAsync(HttpMethod.Post, $"/api/operations/{escaped}/approve"));
        }

        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch, new HttpMethod("TRACE"), HttpMethod.Options })
        {
            foreach (var path in new[] { "/api/backups", "/api/restores", "/api/health", "/api/operations/op-x", "/api/slack/commands", "/api/nope", "/api/../api/backups" })
            {
                requests.Add(() => s.SendAsync(method, path));
            }
        }

        foreach (var q in new[] { "limit=0", "limit=-1", "limit=99999999999", "limit=abc", "before=../../x", "before=20200101T000000Z-aaaaaa%0A", "database=shop&database=x", "limit=1e3" })
        {
            requests.Add(() => s.SendAsync(HttpMethod.Get, "/api/backups?" + q));
        }

        requests.Add(() => s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop" }, headers: new Dictionary<string, string> { ["Idempotency-Key"] = new string('k', 500) }));
        requests.Add(() => s.SendAsync(HttpMethod.Post, "/api/slack/commands", key: null, rawBody: "text=backup+shop", contentType: "application/x-www-form-urlencoded"));
        requests.Add(() => s.SendAsync(HttpMethod.Post, "/api/slack/commands", key: null, headers: new Dictionary<string, string> { ["X-Slack-Request-Timestamp"] = "99999999999999999999", ["X-Slack-Signature"] = "v0=00" }, rawBody: "text=help", contentType: "application/x-www-form-urlencoded"));

        Assert.True(requests.Count >= 200, $"only {requests.Count} requests");
        var statuses = new List<int>();
        foreach (var send in requests)
        {
            var (status, _, _) = await send();
            statuses.Add((int)status);
        }

        // Every one is refused with a 4xx (a hostile request that got through would show as 2xx here), none is a 5xx.
        Assert.All(statuses, status => Assert.InRange(status, 400, 499));

        // The problems say what was wrong in the caller's terms, never naming sbk's .NET types.
        Assert.All(s.Bodies, body => Assert.DoesNotMatch(@"System\.|ServerlessBackup\.|`1", body));
        var (_, wrongType, _) = await s.SendAsync(HttpMethod.Post, "/api/backups", rawBody: "{\"database\":42}");
        Assert.Equal("At $.database: expected a string here.", wrongType.GetProperty("detail").GetString());
        var (_, unknownField, _) = await s.SendAsync(HttpMethod.Post, "/api/backups", rawBody: "{\"database\":\"shop\",\"extra\":1}");
        Assert.Contains("'extra' is not a field of this request.", unknownField.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var (_, notArray, _) = await s.SendAsync(HttpMethod.Post, "/api/drills", rawBody: "{\"databases\":\"shop\"}");
        Assert.Equal("At $.databases: expected an array here.", notArray.GetProperty("detail").GetString());
        var (healthStatus, _, _) = await s.SendAsync(HttpMethod.Get, "/api/health", key: null);
        Assert.Equal(HttpStatusCode.OK, healthStatus);
        Assert.Equal(HttpStatusCode.OK, (await s.SendAsync(HttpMethod.Get, "/api/backups?database=shop")).Status);
        foreach (var body in s.Bodies)
        {
            foreach (var secret in new[] { TestServers.Password, Uri.EscapeDataString(TestServers.Password), AliceKey, BobKey, SlackSecret, "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq" })
            {
                Assert.DoesNotContain(secret, body, StringComparison.Ordinal);
            }

            Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        }
    }
}
