using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Drills;
using ServerlessBackup.Errors;
using ServerlessBackup.Notify;
using ServerlessBackup.Restore;
using ServerlessBackup.Retention;
using ServerlessBackup.Schedules;
using ServerlessBackup.Secrets;
using ServerlessBackup.Storage;
using ServerlessBackup.Storage.Azure;

namespace ServerlessBackup.Hosting;

/// <summary>
/// Everything a host needs, made from configuration once: the validated options, the secret
/// store, the backup store and the engine. Hosts (the CLI, the Functions app) only bind to this.
/// </summary>
public sealed class SbkEnvironment
{
    private SbkEnvironment(SbkOptions options, ISecretStore secrets, IObjectStore store, BackupEngine backups, RestoreEngine restores, Notifier notifier, Scheduler scheduler, RetentionEngine retention, DrillEngine drills)
    {
        Drills = drills;
        Options = options;
        Secrets = secrets;
        Store = store;
        Backups = backups;
        Restores = restores;
        Notifier = notifier;
        Scheduler = scheduler;
        Retention = retention;
    }

    /// <summary>The validated options.</summary>
    public SbkOptions Options { get; }

    /// <summary>The secret store.</summary>
    public ISecretStore Secrets { get; }

    /// <summary>The backup store.</summary>
    public IObjectStore Store { get; }

    /// <summary>The backup engine.</summary>
    public BackupEngine Backups { get; }

    /// <summary>The restore, verification and scratch engine.</summary>
    public RestoreEngine Restores { get; }

    /// <summary>Notifications to the team.</summary>
    public Notifier Notifier { get; }

    /// <summary>Schedules, run-due and freshness.</summary>
    public Scheduler Scheduler { get; }

    /// <summary>Restore drills.</summary>
    public DrillEngine Drills { get; }

    /// <summary>Retention: prune, hold, release.</summary>
    public RetentionEngine Retention { get; }

    /// <summary>Binds and validates options from <paramref name="configuration"/>.</summary>
    /// <param name="configuration">The configuration root.</param>
    /// <param name="source">Where it came from, for messages ("sbk.json and SBK_* variables").</param>
    public static SbkOptions BindOptions(IConfiguration configuration, string source)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        SbkOptions options;
        try
        {
            options = configuration.Get<SbkOptions>() ?? new SbkOptions();
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key and the value it could not convert; values here are not secrets (config names secrets).
            throw new SbkException(SbkErrorKind.Configuration, $"The configuration in {source} has a value of the wrong type: {ex.Message}");
        }

        CatalogValidator.Validate(options, source);
        return options;
    }

    /// <summary>The secret store the options name; relative paths are resolved against <paramref name="baseDirectory"/>.</summary>
    public static ISecretStore CreateSecretStore(SbkOptions options, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Secrets.Kind.Equals("KeyVault", StringComparison.OrdinalIgnoreCase))
        {
            var credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = options.Secrets.ManagedIdentityClientId });
            return new KeyVaultSecretStore(options.Secrets.VaultUri!, credential, null, TimeSpan.FromSeconds(options.Secrets.CacheSeconds));
        }

        return new LocalSecretStore(Path.GetFullPath(options.Secrets.Path, baseDirectory));
    }

    /// <summary>Creates the environment. Reads the storage connection string secret when one is configured.</summary>
    public static async Task<SbkEnvironment> CreateAsync(SbkOptions options, string baseDirectory, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var secrets = CreateSecretStore(options, baseDirectory);
        IObjectStore store;
        if (options.Store.Kind == StoreKind.FileSystem)
        {
            store = new FileSystemObjectStore(Path.GetFullPath(options.Store.Path, baseDirectory));
        }
        else
        {
            var clientOptions = new BlobStoreClientOptions { BlockSize = options.Store.BlockSizeMiB * 1024 * 1024, MaxConcurrency = options.Store.MaxConcurrency };
            BlobStoreClient client;
            if (options.Store.ConnectionStringSecret is { } secretName)
            {
                var secret = await secrets.GetSecretAsync(secretName, null, cancellationToken).ConfigureAwait(false);
                client = new BlobStoreClient(BlobConnectionString.Parse(secret.Reveal(), $"the secret '{secretName}'"), options.Store.Container, clientOptions);
            }
            else
            {
                client = new BlobStoreClient(options.Store.ServiceUri!, options.Store.Container, new DefaultAzureCredential(), clientOptions);
            }

            store = new AzureBlobObjectStore(client);
        }

        var engine = new BackupEngine(options, store, secrets, TimeProvider.System, loggerFactory?.CreateLogger<BackupEngine>());
        var restores = new RestoreEngine(options, engine, secrets, TimeProvider.System, loggerFactory?.CreateLogger<RestoreEngine>());
        var notifier = new Notifier(options.Notifications, secrets, null, loggerFactory?.CreateLogger<Notifier>());
        var scheduler = new Scheduler(options, engine, notifier, TimeProvider.System, loggerFactory?.CreateLogger<Scheduler>());
        var retention = new RetentionEngine(options, engine, notifier, TimeProvider.System, loggerFactory?.CreateLogger<RetentionEngine>());
        var drills = new DrillEngine(options, engine, restores, notifier, TimeProvider.System, loggerFactory);
        return new SbkEnvironment(options, secrets, store, engine, restores, notifier, scheduler, retention, drills);
    }
}
