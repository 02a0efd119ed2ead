using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Crypto;
using ServerlessBackup.Restore;
using ServerlessBackup.Secrets;
using ServerlessBackup.Storage;

namespace ServerlessBackup.Tests.Infrastructure;

/// <summary>A temporary directory with a local secret store holding a master key, and a catalog around it.</summary>
internal sealed class TestCatalog : IDisposable
{
    public TestCatalog()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("sbk-test-").FullName;
        Secrets = new LocalSecretStore(Path.Combine(Directory, "secrets.json"), _ => null);
        Options = new SbkOptions
        {
            Store = new StoreOptions { Path = Path.Combine(Directory, "store") },
            Secrets = new SecretStoreOptions { Path = Path.Combine(Directory, "secrets.json") },
        };
    }

    public string Directory { get; }

    public LocalSecretStore Secrets { get; }

    public SbkOptions Options { get; }

    public FileSystemObjectStore NewFileStore() => new(Path.Combine(Directory, "store"));

    public async Task<TestCatalog> WithMasterKeyAsync()
    {
        await Secrets.SetSecretAsync(Options.MasterKeySecret, MasterKey.GenerateSecretValue());
        return this;
    }

    public async Task AddDatabaseAsync(string name, string connectionString, CensusMode census = CensusMode.Exact)
    {
        var secret = name + "-db";
        await Secrets.SetSecretAsync(secret, connectionString);
        Options.Databases[name] = new DatabaseOptions { ConnectionStringSecret = secret, Census = census };
    }

    /// <summary>An engine over <paramref name="store"/> that tells the catalog's notification targets of failed backups, as the hosts' does.</summary>
    public BackupEngine Engine(IObjectStore store) => new(Options, store, Secrets, notifier: new Notify.Notifier(Options.Notifications, Secrets));

    public RestoreEngine Restores(BackupEngine engine, TimeProvider? time = null) => new(Options, engine, Secrets, time);

    /// <summary>Signs state objects under the catalog's master key, as the hosts' signer does.</summary>
    public StateSigner Signer() => new(new MasterKeyProvider(Secrets, Options.MasterKeySecret));

    /// <summary>Retention over <paramref name="store"/>, as the hosts compose it.</summary>
    public Retention.RetentionEngine Retention(IObjectStore store, TimeProvider? time = null) =>
        new(Options, Engine(store), store, Signer(), new Notify.Notifier(Options.Notifications, Secrets), time);

    /// <summary>Drills over <paramref name="engine"/> and <paramref name="restores"/>, their reports in <paramref name="store"/>.</summary>
    public Drills.DrillEngine Drills(BackupEngine engine, RestoreEngine restores, IObjectStore store) =>
        new(Options, engine, restores, store, new Sealer(new MasterKeyProvider(Secrets, Options.MasterKeySecret)), new Notify.Notifier(Options.Notifications, Secrets));

    /// <summary>A scratch server: the test PostgreSQL (15 by default), shared with the sources, as in development.</summary>
    public async Task<TestCatalog> WithScratchAsync(int? port = null, bool allowSourceServer = true)
    {
        await Secrets.SetSecretAsync("scratch-admin", TestServers.ConnectionUri("postgres", port: port));
        Options.Scratch.ConnectionStringSecret = "scratch-admin";
        Options.Scratch.AllowSourceServer = allowSourceServer;
        return this;
    }

    /// <summary>Backups go to a new container in Azurite (as in Azure), its connection string in the secret 'azurite'.</summary>
    public async Task<TestCatalog> WithAzuriteStoreAsync()
    {
        await Secrets.SetSecretAsync("azurite", TestServers.AzuriteConnectionString());
        Options.Store = new StoreOptions { Kind = StoreKind.AzureBlob, ConnectionStringSecret = "azurite", Container = "t" + Guid.NewGuid().ToString("N")[..20] };
        return this;
    }

    /// <summary>Writes sbk.json for CLI tests (file store, local secrets).</summary>
    public string WriteConfig()
    {
        var path = Path.Combine(Directory, "sbk.json");
        var databases = string.Join(",", Options.Databases.Select(d => $"\"{d.Key}\": {{ \"ConnectionStringSecret\": \"{d.Value.ConnectionStringSecret}\"{(d.Value.Schedule is { } schedule ? $", \"Schedule\": \"{schedule}\"" : string.Empty)} }}"));
        File.WriteAllText(path, $$"""
            {
              "Store": {{StoreJson()}},
              "Secrets": { "Kind": "Local", "Path": "secrets.json" },
              "Dump": { "LockWaitTimeoutSeconds": {{Options.Dump.LockWaitTimeoutSeconds}} },
              "Scratch": { "ConnectionStringSecret": {{(Options.Scratch.ConnectionStringSecret is null ? "null" : $"\"{Options.Scratch.ConnectionStringSecret}\"")}}, "AllowSourceServer": {{(Options.Scratch.AllowSourceServer ? "true" : "false")}}, "TempDirectory": {{(Options.Scratch.TempDirectory is null ? "null" : System.Text.Json.JsonSerializer.Serialize(Options.Scratch.TempDirectory))}} },
              "Databases": { {{databases}} }
            }
            """);
        return path;
    }

    private string StoreJson() => Options.Store.Kind == StoreKind.AzureBlob
        ? $$"""{ "Kind": "AzureBlob", "Container": "{{Options.Store.Container}}", "ConnectionStringSecret": "{{Options.Store.ConnectionStringSecret}}" }"""
        : """{ "Kind": "FileSystem", "Path": "store" }""";

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort; it is under the temp directory.
        }
    }
}
