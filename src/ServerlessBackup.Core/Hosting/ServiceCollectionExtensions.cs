using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Api;
using ServerlessBackup.Audit;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Crypto;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Drills;
using ServerlessBackup.Notify;
using ServerlessBackup.Operations;
using ServerlessBackup.Restore;
using ServerlessBackup.Retention;
using ServerlessBackup.Schedules;
using ServerlessBackup.Secrets;
using ServerlessBackup.Storage;
using Azure.Storage.Blobs;

namespace ServerlessBackup.Hosting;

/// <summary>How every host composes the engine: one registration over .NET configuration.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers the engine (options, secret store, store, backups, restores, schedules, retention,
    /// drills, operations, the API) as singletons over <paramref name="configuration"/>, with
    /// <see cref="TimeProvider"/> and <see cref="ILogger{T}"/>. Nothing is read or connected until a
    /// service is first resolved; resolving <see cref="SbkOptions"/> validates the whole catalog
    /// and throws an <see cref="Errors.SbkException"/> naming every bad setting (hosts resolve it at
    /// start, so a bad catalog stops them with that message).
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The catalog's configuration (see <see cref="SbkConfiguration"/>).</param>
    /// <param name="host">Where relative paths start and how the configuration is described in messages.</param>
    public static IServiceCollection AddServerlessBackup(this IServiceCollection services, IConfiguration configuration, SbkHostOptions host)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(host);
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(host);
        services.TryAddSingleton(_ => SbkConfiguration.Bind(configuration, host.Source, host.StrictConfiguration));
        services.TryAddSingleton<TokenCredential>(sp =>
        {
            var options = sp.GetRequiredService<SbkOptions>();
            return new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = options.Secrets.ManagedIdentityClientId });
        });
        services.TryAddSingleton(sp => CreateSecretStore(sp.GetRequiredService<SbkOptions>(), host.BaseDirectory, sp.GetRequiredService<TokenCredential>));
        services.TryAddSingleton(sp => CreateStore(sp.GetRequiredService<SbkOptions>(), host.BaseDirectory, sp.GetRequiredService<ISecretStore>(), sp.GetRequiredService<TokenCredential>));
        services.TryAddSingleton(sp => { var options = sp.GetRequiredService<SbkOptions>(); return new MasterKeyProvider(sp.GetRequiredService<ISecretStore>(), options.MasterKeySecret); });
        services.TryAddSingleton<StateSigner>();
        services.TryAddSingleton<Sealer>();
        services.TryAddSingleton<BackupEngine>();
        services.TryAddSingleton<RestoreEngine>();
        services.TryAddSingleton(sp => new Notifier(sp.GetRequiredService<SbkOptions>().Notifications, sp.GetRequiredService<ISecretStore>(), null, sp.GetRequiredService<ILogger<Notifier>>()));
        services.TryAddSingleton<Scheduler>();
        services.TryAddSingleton<RunDue>();
        services.TryAddSingleton<RetentionEngine>();
        services.TryAddSingleton<Maintenance>();
        services.TryAddSingleton<DrillEngine>();
        services.TryAddSingleton(sp => sp.GetRequiredService<DrillEngine>().Activities);
        services.TryAddSingleton<OperationStore>();
        services.TryAddSingleton<OperationExecutor>();
        services.TryAddSingleton<OperationNotices>();
        services.TryAddSingleton<OperationActivities>();
        services.TryAddSingleton<AuditLog>();
        services.TryAddSingleton(sp =>
        {
            var api = ActivatorUtilities.CreateInstance<SbkApi>(sp);
            api.Host = host.HostName == "functions" ? "functions" : "serve";
            return api;
        });
        return services;
    }

    /// <summary>The secret store the options name; relative paths start at <paramref name="baseDirectory"/>.</summary>
    public static ISecretStore CreateSecretStore(SbkOptions options, string baseDirectory, Func<TokenCredential> credential)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        return options.Secrets.Kind.Equals("KeyVault", StringComparison.OrdinalIgnoreCase)
            ? new KeyVaultSecretStore(options.Secrets.VaultUri!, credential(), null, TimeSpan.FromSeconds(options.Secrets.CacheSeconds))
            : new LocalSecretStore(Path.GetFullPath(options.Secrets.Path, baseDirectory));
    }

    /// <summary>The store the options name. An Azure store connects on first use (its connection string is a secret).</summary>
    public static IObjectStore CreateStore(SbkOptions options, string baseDirectory, ISecretStore secrets, Func<TokenCredential> credential)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(credential);
        if (options.Store.Kind == StoreKind.FileSystem)
        {
            return new FileSystemObjectStore(Path.GetFullPath(options.Store.Path, baseDirectory));
        }

        var storeOptions = new AzureBlobStoreOptions
        {
            BlockSize = options.Store.BlockSizeMiB * 1024 * 1024,
            DownloadRangeSize = options.Store.BlockSizeMiB * 1024 * 1024,
            MaxConcurrency = options.Store.MaxConcurrency,
            ImmutabilityDays = options.Store.ImmutabilityDays,
            SignsWithConnectionString = options.Store.ConnectionStringSecret is not null,
        };
        var where = options.Store.ServiceUri is { } uri ? $"{uri.GetLeftPart(UriPartial.Path).TrimEnd('/')}/{options.Store.Container}" : $"container '{options.Store.Container}'";
        return new DeferredObjectStore($"the Azure Blob {where}", async cancellationToken =>
        {
            var clientOptions = new BlobClientOptions();
            clientOptions.Retry.MaxRetries = 5;
            clientOptions.Retry.Mode = Azure.Core.RetryMode.Exponential;
            clientOptions.Retry.MaxDelay = TimeSpan.FromSeconds(30);
            BlobContainerClient container;
            if (options.Store.ConnectionStringSecret is { } secretName)
            {
                var secret = await secrets.GetSecretAsync(secretName, null, cancellationToken).ConfigureAwait(false);
                try
                {
                    container = new BlobServiceClient(secret.Reveal(), clientOptions).GetBlobContainerClient(options.Store.Container);
                }
                catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
                {
                    // Never echo it: it is a credential.
                    throw new Errors.SbkException(Errors.SbkErrorKind.Configuration, $"The secret '{secretName}' (Store:ConnectionStringSecret) does not hold a storage connection string sbk can use (DefaultEndpointsProtocol=https;AccountName=...;AccountKey=... or a SAS connection string). Store the account's connection string there.");
                }
            }
            else
            {
                container = new BlobContainerClient(new Uri($"{options.Store.ServiceUri!.GetLeftPart(UriPartial.Path).TrimEnd('/')}/{options.Store.Container}"), credential(), clientOptions);
            }

            return new AzureBlobObjectStore(container, storeOptions);
        });
    }
}

/// <summary>What a host says about itself when it composes the engine.</summary>
/// <param name="BaseDirectory">Where relative paths in the configuration start (the configuration file's directory).</param>
/// <param name="Source">How the configuration is described in messages ("/app/sbk.json and SBK_* environment variables").</param>
/// <param name="StrictConfiguration">Whether a setting sbk does not read is an error (the Functions app: yes).</param>
/// <param name="HostName">Who runs the engine, for the audit log: cli (and its sbk serve) or functions.</param>
public sealed record SbkHostOptions(string BaseDirectory, string Source, bool StrictConfiguration = false, string HostName = "cli");
