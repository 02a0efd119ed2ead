// The API benchmark's two halves (scripts/bench-api.sh runs them):
//   seed <config> <backups per database>: takes real backups of every catalogued database, 4 at a time;
//   load <url> <api key> <clients> <seconds> <path>...: a closed-loop load generator (each client sends
//   its next request when the last one answered) printing p50, p99 and throughput per path.
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServerlessBackup.Hosting;

var inv = CultureInfo.InvariantCulture;
if (args is ["seed", var config, var perDatabaseText])
{
    var configuration = new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(config)).AddEnvironmentVariables("SBK_").Build();
    await using var services = new ServiceCollection()
        .AddServerlessBackup(configuration, new SbkHostOptions(Path.GetDirectoryName(Path.GetFullPath(config))!, config))
        .BuildServiceProvider();
    var options = services.GetRequiredService<ServerlessBackup.Catalog.SbkOptions>();
    var backups = services.GetRequiredService<ServerlessBackup.Backups.BackupEngine>();
    var perDatabase = int.Parse(perDatabaseText, inv);
    var clock = Stopwatch.StartNew();
    // Round-robin over the databases: one backup per database at a time (each holds its database's lock).
    var jobs = Enumerable.Range(0, perDatabase).SelectMany(_ => options.Databases.Keys).ToList();
    await Parallel.ForEachAsync(jobs, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (db, ct) =>
    {
        while (true)
        {
            try
            {
                await backups.BackupAsync(db, null, null, ct);
                return;
            }
            catch (ServerlessBackup.Errors.SbkException ex) when (ex.Kind == ServerlessBackup.Errors.SbkErrorKind.AlreadyRunning)
            {
                await Task.Delay(100, ct);
            }
        }
    });
    Console.WriteLine(string.Create(inv, $"seeded {jobs.Count} backups of {options.Databases.Count} databases in {clock.Elapsed.TotalSeconds:0.0} s"));
    return 0;
}

if (args.Length >= 5 && args[0] == "load")
{
    var (url, key, clients, seconds) = (args[1], args[2], int.Parse(args[3], inv), double.Parse(args[4], inv));
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = new Uri(url) };
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
    foreach (var path in args[5..])
    {
        // Warm up (JIT, connections), then measure.
        await Run(http, path, clients, TimeSpan.FromSeconds(2));
        var (latencies, errors, elapsed) = await Run(http, path, clients, TimeSpan.FromSeconds(seconds));
        latencies.Sort();
        double P(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
        Console.WriteLine(string.Create(inv, $"| GET {path} | {clients} | {latencies.Count} | {latencies.Count / elapsed.TotalSeconds:0} | {P(0.5):0.0} | {P(0.99):0.0} | {errors} |"));
    }

    return 0;
}

Console.Error.WriteLine("usage: seed <config> <backups per database> | load <url> <api key> <clients> <seconds> <path>...");
return 2;

static async Task<(List<double> Latencies, int Errors, TimeSpan Elapsed)> Run(HttpClient http, string path, int clients, TimeSpan duration)
{
    var latencies = new List<double>();
    var errors = 0;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
    {
        var mine = new List<double>();
        while (clock.Elapsed < duration)
        {
            var start = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync(path);
            await response.Content.ReadAsByteArrayAsync();
            mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (!response.IsSuccessStatusCode && (int)response.StatusCode != 503)
            {
                Interlocked.Increment(ref errors);
            }
        }

        lock (latencies)
        {
            latencies.AddRange(mine);
        }
    }));
    return (latencies, errors, clock.Elapsed);
}
