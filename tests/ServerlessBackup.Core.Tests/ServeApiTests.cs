using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServerlessBackup.Catalog;
using ServerlessBackup.Cli.Serve;
using ServerlessBackup.Hosting;
using ServerlessBackup.Operations;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>The API suite through `sbk serve`'s real Kestrel host on loopback, with operations in process.</summary>
public sealed class ServeApiTests : ApiSuite
{
    internal static ServiceProvider Compose(SbkOptions options, string directory) =>
        new ServiceCollection().AddSingleton(options).AddServerlessBackup(new ConfigurationBuilder().Build(), new SbkHostOptions(directory, "the test"))
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

    protected override async Task<(HttpClient Http, IServiceProvider Services, IAsyncDisposable Host)> StartHostAsync(SbkOptions options, string directory)
    {
        var services = Compose(options, directory);
        var host = await ServeHost.StartAsync(services, "http://127.0.0.1:0", CancellationToken.None);
        return (new HttpClient { BaseAddress = new Uri(host.Addresses[0]), Timeout = TimeSpan.FromMinutes(2) }, services, new Both(host, services));
    }

    private sealed class Both(ServeHost host, ServiceProvider services) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await host.DisposeAsync();
            await services.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_restarted_server_answers_for_finished_operations_fails_dead_ones_and_leaves_another_instances_live_ones_alone()
    {
        await using var s = await StartAsync();
        var (_, backup, _) = await s.SendAsync(HttpMethod.Post, "/api/backups", new { database = "shop" });
        var finishedId = backup.GetProperty("operationId").GetString()!;
        await s.PollAsync(finishedId);
        var now = DateTimeOffset.UtcNow;
        // One left running by a process that died minutes ago, one running right now in another instance.
        var dead = new OperationRecord { Id = "op-" + Backups.BackupId.New(now), Kind = "backup", Database = "shop", Status = "running", Phase = "dumping", CreatedBy = "alice", CreatedAt = now.AddMinutes(-10), UpdatedAt = now.AddMinutes(-10) };
        var live = dead with { Id = "op-" + Backups.BackupId.New(now), UpdatedAt = now };
        var records = s.Services.GetRequiredService<Operations.OperationStore>();
        foreach (var record in new[] { dead, live })
        {
            await records.SaveAsync(record);
        }

        await using var restarted = await ServeHost.StartAsync(s.Services, "http://127.0.0.1:0", CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(restarted.Addresses[0]) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AliceKey);

        using var finished = JsonDocument.Parse(await http.GetStringAsync("/api/operations/" + finishedId));
        using var failed = JsonDocument.Parse(await http.GetStringAsync("/api/operations/" + dead.Id));
        using var running = JsonDocument.Parse(await http.GetStringAsync("/api/operations/" + live.Id));
        Assert.Equal("succeeded", finished.RootElement.GetProperty("status").GetString());
        Assert.Equal("failed", failed.RootElement.GetProperty("status").GetString());
        Assert.Contains("stopped before it finished", failed.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("Interrupted", failed.RootElement.GetProperty("errorKind").GetString());
        Assert.Equal("running", running.RootElement.GetProperty("status").GetString());
        // In the store, the message is sealed; only its kind is in clear.
        await using var stored = await s.Store.OpenReadAsync($"_operations/{dead.Id}.json");
        var text = await new StreamReader(stored).ReadToEndAsync();
        Assert.DoesNotContain("stopped before", text, StringComparison.Ordinal);
        Assert.Contains("sealedError", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_running_parallel_restore_says_how_many_of_its_tables_are_loaded_and_other_operations_say_nothing_of_tables()
    {
        await using var s = await StartAsync();
        var now = DateTimeOffset.UtcNow;
        var restore = new OperationRecord { Id = "op-" + Backups.BackupId.New(now), Kind = "restore", Database = "shop", Status = "running", Phase = "restoring", Bytes = 1234, Tables = new TableCount(2, 5), CreatedBy = "alice", CreatedAt = now, UpdatedAt = now };
        var backup = restore with { Id = "op-" + Backups.BackupId.New(now), Kind = "backup", Phase = "dumping", Tables = null };
        var records = s.Services.GetRequiredService<Operations.OperationStore>();
        await records.SaveAsync(restore);
        await records.SaveAsync(backup);

        var (_, loading, _) = await s.SendAsync(HttpMethod.Get, "/api/operations/" + restore.Id);
        var (_, dumping, _) = await s.SendAsync(HttpMethod.Get, "/api/operations/" + backup.Id);

        Assert.Equal(2, loading.GetProperty("tables").GetProperty("loaded").GetInt32());
        Assert.Equal(5, loading.GetProperty("tables").GetProperty("total").GetInt32());
        Assert.False(dumping.TryGetProperty("tables", out _));

        // Someone who can write the storage account edits the count: the record no longer verifies, and is not shown.
        var key = $"_operations/{restore.Id}.json";
        string text;
        await using (var stored = await s.Store.OpenReadAsync(key))
        {
            text = await new StreamReader(stored).ReadToEndAsync();
        }

        Assert.Contains("\"loaded\":2", text, StringComparison.Ordinal);
        await s.Store.PutAsync(key, System.Text.Encoding.UTF8.GetBytes(text.Replace("\"loaded\":2", "\"loaded\":5", StringComparison.Ordinal)), overwrite: true);
        var (status, _, _) = await s.SendAsync(HttpMethod.Get, "/api/operations/" + restore.Id);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task Two_servers_on_one_store_run_one_backup_of_a_database_at_a_time()
    {
        await using var s = await StartAsync();
        await using var second = await ServeHost.StartAsync(s.Services, "http://127.0.0.1:0", CancellationToken.None);
        using var other = new HttpClient { BaseAddress = new Uri(second.Addresses[0]) };
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", BobKey);

        async Task<(System.Net.HttpStatusCode Status, string Body)> PostAsync(HttpClient http)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/backups") { Content = new StringContent("{\"database\":\"shop\"}", System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AliceKey);
            using var response = await http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var racing = await Task.WhenAll(PostAsync(s.Http), PostAsync(other), PostAsync(s.Http), PostAsync(other));

        var accepted = Assert.Single(racing, r => r.Status == System.Net.HttpStatusCode.Accepted);
        Assert.All(racing.Where(r => r.Status != System.Net.HttpStatusCode.Accepted), r => Assert.True(r.Status == System.Net.HttpStatusCode.Conflict, r.Body));
        using var json = JsonDocument.Parse(accepted.Body);
        await s.PollAsync(json.RootElement.GetProperty("operationId").GetString()!);
        Assert.Single(await s.Backups.ListAsync("shop"));
    }

    [Fact]
    public async Task An_unreachable_store_is_a_503_with_Retry_After_for_the_health_probe_and_callers_never_a_500()
    {
        await using var s = await StartAsync(c =>
        {
            // The store's endpoint refuses connections, as during an outage or a firewall change.
            c.Secrets.SetSecretAsync("dead-store", TestServers.AzuriteConnectionString().Replace(TestServers.AzuriteBlobEndpoint.ToString(), "http://127.0.0.1:1/devstoreaccount1", StringComparison.Ordinal)).GetAwaiter().GetResult();
            c.Options.Store.ConnectionStringSecret = "dead-store";
        });

        var (health, problem, response) = await s.SendAsync(HttpMethod.Get, "/api/health", key: null);

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, health);
        Assert.True(response.Headers.RetryAfter is not null, "a 503 says when to come back");
        Assert.DoesNotContain("exception", problem.GetRawText(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("AccountKey", problem.GetRawText(), StringComparison.Ordinal);
    }
}
