using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>
/// sbk as shipped: published for a platform, a native executable without JIT or run-time
/// reflection. The other tests run the engine as .NET code; these run the published file against
/// the real servers, so that whatever the native build handles differently (generated JSON and
/// configuration code, native libraries, Kestrel) is proven on the commands users run, and its
/// --json output is compared with the in-process run's (byte for byte, but for the ages `status` computes at the moment it runs).
/// </summary>
[Collection(NativeSbkCollection.Name)]
public sealed class NativeSbkTests
{
    [Fact]
    public async Task The_native_executable_backs_up_lists_shows_verifies_restores_and_decrypts_and_writes_the_json_the_engine_writes()
    {
        var sbk = await NativeSbk.PathAsync();
        using var catalog = await (await new TestCatalog().WithMasterKeyAsync()).WithScratchAsync();
        await using var source = await TestDatabase.CreateAsync("native");
        await source.ExecuteAsync(Fixture.Schema);
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var config = catalog.WriteConfig();
        var outputs = new List<string>();
        async Task<(int Exit, string Out, string Err)> Run(params string[] args)
        {
            var result = await NativeSbk.RunAsync(sbk, catalog.Directory, [.. args, "--config", config]);
            outputs.Add(result.Out + result.Err);
            return result;
        }

        var backup = await Run("backup", "shop", "--label", "native", "--json");
        Assert.True(backup.Exit == 0, backup.Err);
        var backupId = JsonNode.Parse(backup.Out)!["backupId"]!.GetValue<string>();
        Assert.Equal("native", JsonNode.Parse(backup.Out)!["label"]!.GetValue<string>());

        // The same --json as the engine run in this process (generated code in both, one contract).
        foreach (var args in new[] { new[] { "list", "shop", "--json" }, ["show", "shop", backupId, "--json"], ["status", "--json"] })
        {
            var native = await Run(args);
            Assert.True(native.Exit == 0, native.Err);
            var managed = await Sbk.RunAsync([.. args, "--config", config]);
            Assert.Equal(args[0] == "status" ? Stable(managed.Out) : managed.Out, args[0] == "status" ? Stable(native.Out) : native.Out);
        }

        var shown = JsonNode.Parse((await Run("show", "shop", backupId, "--json")).Out)!;
        Assert.True(shown["census"]!["tables"]!.AsArray().Count > 0);
        Assert.Equal("Exact", shown["census"]!["mode"]!.GetValue<string>());

        var verified = await Run("verify", "shop", "--level", "assertions", "--json");
        Assert.True(verified.Exit == 0, verified.Err);
        Assert.True(JsonNode.Parse(verified.Out)!["passed"]!.GetValue<bool>());
        Assert.Equal("Assertions", JsonNode.Parse(verified.Out)!["level"]!.GetValue<string>());

        foreach (var jobs in new[] { "1", "2" })
        {
            var restored = await Run("restore", "shop", "--jobs", jobs, "--json");
            Assert.True(restored.Exit == 0, restored.Err);
            var target = JsonNode.Parse(restored.Out)!["target"]!.GetValue<string>();
            await using var copy = TestDatabase.Attach(target);
            var scratch = JsonNode.Parse((await Run("scratch", "list", "--json")).Out)!.AsArray();
            Assert.Contains(scratch, d => d!["name"]!.GetValue<string>() == target);
            Assert.Equal(await source.FingerprintAsync(), await copy.FingerprintAsync());
        }

        var archive = Path.Combine(catalog.Directory, "native.dump");
        var decrypted = await Run("decrypt", "shop", backupId, "--out", archive, "--json");
        Assert.True(decrypted.Exit == 0, decrypted.Err);
        Assert.True(JsonNode.Parse(decrypted.Out)!["manifestChecked"]!.GetValue<bool>());
        await using (var copy = await TestDatabase.CreateAsync("nativecopy"))
        {
            var (exit, errors) = await PgTools.RestoreAsync(archive, copy);
            Assert.True(exit == 0, errors);
            Assert.Equal(await source.FingerprintAsync(), await copy.FingerprintAsync());
        }

        var audit = JsonNode.Parse((await Run("audit", "--json")).Out)!.AsArray();
        Assert.Contains(audit, e => e!["action"]!.GetValue<string>() == "restore" && e["target"]!.GetValue<string>().StartsWith("shop", StringComparison.Ordinal) && e["authenticated"]!.GetValue<bool>());
        var swept = await Run("scratch", "sweep", "--dry-run", "--json");
        Assert.True(swept.Exit == 0, swept.Err);
        Assert.True(JsonNode.Parse(swept.Out)!["dryRun"]!.GetValue<bool>());

        // A second instance running the same command at once: one backup each, or a clear refusal; never a broken store.
        var twins = await Task.WhenAll(Run("backup", "shop", "--json"), Run("backup", "shop", "--json"));
        Assert.All(twins, t => Assert.True(t.Exit is 0 or 5, $"exit {t.Exit}: {t.Err}")); // Ok, or ExitCodes.AlreadyRunning
        Assert.Contains(twins, t => t.Exit == 0);
        var listed = JsonNode.Parse((await Run("list", "shop", "--json")).Out)!.AsArray();
        Assert.Equal(1 + twins.Count(t => t.Exit == 0), listed.Count);

        // Someone who can write the store but not read the key edits a manifest: refused, as an integrity failure.
        var manifestPath = Path.Combine(catalog.Directory, "store", "shop", backupId, "manifest.json");
        File.WriteAllText(manifestPath, File.ReadAllText(manifestPath).Replace("\"label\": \"native\"", "\"label\": \"forged\"", StringComparison.Ordinal));
        var forged = await Run("show", "shop", backupId, "--json");
        Assert.Equal(3, forged.Exit); // ExitCodes.Integrity
        Assert.Contains("does not authenticate", forged.Err, StringComparison.Ordinal);
        Assert.Empty(forged.Out);
        File.WriteAllText(manifestPath, "{\"formatVersion\": \"x\"");
        var garbage = await Run("show", "shop", backupId, "--json");
        Assert.NotEqual(0, garbage.Exit);
        Assert.Contains(backupId, garbage.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", garbage.Err, StringComparison.Ordinal);

        // Bad input: a clear error and the exit code of a refusal, from the generated configuration code too.
        var missing = await Run("show", "shop", "20200101T000000Z-nothere");
        Assert.NotEqual(0, missing.Exit);
        Assert.Contains("20200101T000000Z-nothere", missing.Err, StringComparison.Ordinal);
        var badConfig = Path.Combine(catalog.Directory, "bad.json");
        var node = JsonNode.Parse(File.ReadAllText(config))!;
        node["Databases"]!["shop"]!["RestoreJobs"] = "two";
        File.WriteAllText(badConfig, node.ToJsonString());
        var refused = await NativeSbk.RunAsync(sbk, catalog.Directory, ["list", "--config", badConfig]);
        Assert.Equal(6, refused.Exit); // ExitCodes.Configuration
        Assert.Contains("Databases:shop:RestoreJobs is 'two'; it takes a whole number.", refused.Err, StringComparison.Ordinal);

        foreach (var output in outputs.Append(refused.Err))
        {
            Assert.DoesNotContain(TestServers.Password, output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_native_executable_backs_up_to_Azure_Blob_Storage_restores_from_it_and_runs_a_drill()
    {
        var sbk = await NativeSbk.PathAsync();
        using var catalog = await (await (await new TestCatalog().WithMasterKeyAsync()).WithAzuriteStoreAsync()).WithScratchAsync();
        await using var source = await TestDatabase.CreateAsync("nativeaz");
        await source.ExecuteAsync(Fixture.Schema);
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var config = catalog.WriteConfig();
        Task<(int Exit, string Out, string Err)> Run(params string[] args) => NativeSbk.RunAsync(sbk, catalog.Directory, [.. args, "--config", config]);

        var backup = await Run("backup", "shop", "--json");
        Assert.True(backup.Exit == 0, backup.Err);
        var list = await Run("list", "shop", "--json");
        Assert.Equal((await Sbk.RunAsync("list", "shop", "--json", "--config", config)).Out, list.Out);
        Assert.Single(JsonNode.Parse(list.Out)!.AsArray());

        var restored = await Run("restore", "shop", "--jobs", "2", "--json");
        Assert.True(restored.Exit == 0, restored.Err);
        await using (var copy = TestDatabase.Attach(JsonNode.Parse(restored.Out)!["target"]!.GetValue<string>()))
        {
            Assert.Equal(await source.FingerprintAsync(), await copy.FingerprintAsync());
        }

        // A drill: the in-process workflow runtime, its activities' JSON, the sealed report and its renderings.
        var drill = await Run("drill", "--level", "census", "--json");
        Assert.True(drill.Exit == 0, drill.Err);
        var report = JsonNode.Parse(drill.Out)!;
        Assert.True(report["allPassed"]!.GetValue<bool>(), drill.Out);
        Assert.Equal("Passed", report["databases"]![0]!["outcome"]!.GetValue<string>());
        var html = await Run("drill", "show", report["drillId"]!.GetValue<string>(), "--format", "html");
        Assert.True(html.Exit == 0, html.Err);
        Assert.StartsWith("<!DOCTYPE html>", html.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(TestServers.Password, backup.Out + backup.Err + restored.Out + restored.Err + drill.Out + drill.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_native_executable_rides_out_500s_and_resets_from_the_store_and_says_so_when_the_store_never_answers()
    {
        var sbk = await NativeSbk.PathAsync();
        using var catalog = await (await (await new TestCatalog().WithMasterKeyAsync()).WithAzuriteStoreAsync()).WithScratchAsync();
        await using var proxy = await FaultProxy.StartAsync();
        await catalog.Secrets.SetSecretAsync("azurite", proxy.ConnectionString);
        await using var source = await TestDatabase.CreateAsync("nativefault");
        await source.ExecuteAsync(Fixture.Schema);
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var config = catalog.WriteConfig();
        Task<(int Exit, string Out, string Err)> Run(params string[] args) => NativeSbk.RunAsync(sbk, catalog.Directory, [.. args, "--config", config]);

        // Every fifth request answered 500, every seventh reset: retried, and the backup and restore come out whole.
        var n = 0;
        proxy.Policy = _ => Interlocked.Increment(ref n) switch
        {
            var i when i % 5 == 0 => Fault.ServerError,
            var i when i % 7 == 0 => Fault.Reset,
            _ => Fault.None,
        };
        var backup = await Run("backup", "shop", "--json");
        Assert.True(backup.Exit == 0, backup.Err);
        var restored = await Run("restore", "shop", "--jobs", "2", "--json");
        Assert.True(restored.Exit == 0, restored.Err);
        await using (var copy = TestDatabase.Attach(JsonNode.Parse(restored.Out)!["target"]!.GetValue<string>()))
        {
            Assert.Equal(await source.FingerprintAsync(), await copy.FingerprintAsync());
        }

        Assert.Contains(proxy.Log, entry => entry.Contains("ServerError", StringComparison.Ordinal));

        // A store that only answers 500: a clear failure once the retries are spent, not a hang or a stack trace.
        proxy.Policy = _ => Fault.ServerError;
        var down = await Run("list", "shop", "--json");
        Assert.NotEqual(0, down.Exit);
        Assert.Empty(down.Out);
        Assert.DoesNotContain("   at ", down.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(TestServers.Password, down.Err + backup.Err + restored.Err, StringComparison.Ordinal);
    }

    /// <summary>The output without what depends on the moment it was written (ages, and the sentence saying them).</summary>
    private static string Stable(string json)
    {
        var node = JsonNode.Parse(json)!;
        foreach (var item in node is JsonArray array ? array.Select(i => i!.AsObject()) : [node.AsObject()])
        {
            foreach (var name in item.Select(p => p.Key).Where(k => k.EndsWith("AgeHours", StringComparison.Ordinal) || k == "summary").ToList())
            {
                item.Remove(name);
            }
        }

        return node.ToJsonString();
    }

    [Fact]
    public async Task Native_sbk_serve_answers_the_api_with_json_and_problem_details()
    {
        var sbk = await NativeSbk.PathAsync();
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await using var source = await TestDatabase.CreateAsync("nativeapi");
        await source.ExecuteAsync(Fixture.Schema);
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        await catalog.Engine(catalog.NewFileStore()).BackupAsync("shop");
        await catalog.Secrets.SetSecretAsync("key-bot", "native-api-key-0123456789abcdef");
        var config = catalog.WriteConfig();
        var node = JsonNode.Parse(File.ReadAllText(config))!;
        node["Api"] = new JsonObject { ["Keys"] = new JsonArray(new JsonObject { ["Name"] = "bot", ["KeySecret"] = "key-bot" }) };
        File.WriteAllText(config, node.ToJsonString());
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var process = NativeSbk.Start(sbk, catalog.Directory, ["serve", "--urls", $"http://127.0.0.1:{port}", "--config", config]);
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            HttpResponseMessage? health = null;
            for (var i = 0; i < 100 && health is null && !process.HasExited; i++)
            {
                try
                {
                    health = await http.GetAsync("/api/health");
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(100);
                }
            }

            Assert.True(health is not null, "native sbk serve did not answer: " + (process.HasExited ? await errors : "(still starting)"));
            Assert.Equal("ok", JsonNode.Parse(await health.Content.ReadAsStringAsync())!["status"]!.GetValue<string>());

            var anonymous = await http.GetAsync("/api/backups");
            Assert.Equal(401, (int)anonymous.StatusCode);
            Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType!.MediaType);
            Assert.Equal("urn:sbk:problem:unauthenticated", JsonNode.Parse(await anonymous.Content.ReadAsStringAsync())!["type"]!.GetValue<string>());

            http.DefaultRequestHeaders.Authorization = new("Bearer", "native-api-key-0123456789abcdef");
            var list = JsonNode.Parse(await http.GetStringAsync("/api/backups?database=shop"))!;
            Assert.Single(list["items"]!.AsArray());
            Assert.Equal("shop", list["items"]![0]!["database"]!.GetValue<string>());

            var wrongType = await http.PostAsync("/api/backups", new StringContent("{\"database\": 5}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(400, (int)wrongType.StatusCode);
            Assert.Equal("At $.database: expected a string here.", JsonNode.Parse(await wrongType.Content.ReadAsStringAsync())!["detail"]!.GetValue<string>());

            var started = await http.PostAsync("/api/backups", new StringContent("{\"database\": \"shop\", \"label\": \"api\"}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(202, (int)started.StatusCode);
            var statusUrl = JsonNode.Parse(await started.Content.ReadAsStringAsync())!["statusUrl"]!.GetValue<string>();
            JsonNode? operation = null;
            for (var i = 0; i < 300 && operation?["status"]?.GetValue<string>() is null or "queued" or "running"; i++)
            {
                await Task.Delay(100);
                operation = JsonNode.Parse(await http.GetStringAsync(statusUrl));
            }

            Assert.Equal("succeeded", operation!["status"]!.GetValue<string>());
            Assert.Equal("api", operation["result"]!["label"]!.GetValue<string>());
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        Assert.DoesNotContain(TestServers.Password, await errors, StringComparison.Ordinal);
    }
}

/// <summary>The native tests share one published executable and do not run beside each other.</summary>
[CollectionDefinition(Name)]
public sealed class NativeSbkCollection
{
    public const string Name = "native sbk";
}

/// <summary>The published native sbk: scripts/test.sh publishes it before the tests and names it in SBK_NATIVE_SBK; without that, the first test publishes it (about two minutes).</summary>
internal static class NativeSbk
{
    private static readonly Lazy<Task<string>> Published = new(PublishAsync);

    public static Task<string> PathAsync() => Published.Value;

    private static async Task<string> PublishAsync()
    {
        if (Environment.GetEnvironmentVariable("SBK_NATIVE_SBK") is { Length: > 0 } given)
        {
            Assert.True(File.Exists(given), $"SBK_NATIVE_SBK names {given}, which does not exist");
            return given;
        }

        var root = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Sbk.Dll()))))))!;
        var output = Path.Combine(Path.GetTempPath(), "sbk-native-test-" + Environment.ProcessId);
        var start = new ProcessStartInfo("dotnet", ["publish", Path.Combine(root, "src", "ServerlessBackup.Cli"), "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier, "-o", output, "-nologo", "-v", "quiet"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var publish = Process.Start(start)!;
        var text = publish.StandardOutput.ReadToEndAsync();
        var error = await publish.StandardError.ReadToEndAsync();
        await publish.WaitForExitAsync();
        Assert.True(publish.ExitCode == 0, "dotnet publish of the native sbk failed: " + await text + error);
        return Path.Combine(output, "sbk");
    }

    public static Process Start(string sbk, string directory, string[] args)
    {
        var start = new ProcessStartInfo(sbk) { WorkingDirectory = directory, RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("SBK_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        var process = Process.Start(start)!;
        process.StandardInput.Close();
        return process;
    }

    public static async Task<(int Exit, string Out, string Err)> RunAsync(string sbk, string directory, string[] args)
    {
        using var process = Start(sbk, directory, args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return (process.ExitCode, await output, await error);
    }
}
