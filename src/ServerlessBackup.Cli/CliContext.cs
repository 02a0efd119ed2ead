using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using ServerlessBackup.Catalog;
using ServerlessBackup.Errors;
using ServerlessBackup.Hosting;

namespace ServerlessBackup.Cli;

/// <summary>Loads the configuration a command runs with (<c>--config</c>, default sbk.json, plus SBK_* variables).</summary>
internal sealed class CliContext : IAsyncDisposable
{
    public const string DefaultConfigFile = "sbk.json";

    private readonly Lazy<ServiceProvider> services;

    private CliContext(SbkOptions options, IConfiguration configuration, string baseDirectory, string source, Interaction interaction, bool verbose)
    {
        Options = options;
        BaseDirectory = baseDirectory;
        Source = source;
        Interaction = interaction;
        Verbose = verbose;
        services = new Lazy<ServiceProvider>(() => BuildServices(options, configuration, baseDirectory, source, verbose));
    }

    public SbkOptions Options { get; }

    public string BaseDirectory { get; }

    public string Source { get; }

    public Interaction Interaction { get; }

    public bool Verbose { get; }

    /// <summary>The engine, composed as every host composes it (<c>AddServerlessBackup</c>).</summary>
    public IServiceProvider Services => services.Value;

    /// <summary>An engine service.</summary>
    public T Get<T>()
        where T : notnull => Services.GetRequiredService<T>();

    public static CliContext Load(string? configPath, Interaction interaction, bool verbose)
    {
        var explicitPath = configPath is not null;
        var path = Path.GetFullPath(configPath ?? DefaultConfigFile);
        if (explicitPath && !File.Exists(path))
        {
            throw new SbkException(SbkErrorKind.Configuration, $"The configuration file {path} does not exist. Create it (see README.md, 'Configuration') or pass another with --config.");
        }

        var builder = new ConfigurationBuilder();
        if (File.Exists(path))
        {
            builder.AddJsonFile(path, optional: false, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables("SBK_");
        IConfigurationRoot configuration;
        try
        {
            configuration = builder.Build();
        }
        catch (InvalidDataException ex)
        {
            throw new SbkException(SbkErrorKind.Configuration, $"The configuration file {path} is not valid JSON: {ex.InnerException?.Message ?? ex.Message}");
        }

        var source = File.Exists(path) ? $"{path} and SBK_* environment variables" : $"SBK_* environment variables (no {DefaultConfigFile} in {Path.GetDirectoryName(path)})";
        var options = SbkConfiguration.Bind(configuration, source);
        return new CliContext(options, configuration, Path.GetDirectoryName(path)!, source, interaction, verbose);
    }

    private static ServiceProvider BuildServices(SbkOptions options, IConfiguration configuration, string baseDirectory, string source, bool verbose)
    {
        var services = new ServiceCollection();
        services.AddSingleton(options); // already bound and validated by Load
        services.AddLogging(b =>
        {
            // Logs go to stderr so that stdout stays clean for results and --json.
            b.AddSimpleConsole(o => o.SingleLine = true)
                .SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning)
                .AddFilter("Microsoft", LogLevel.Warning);
            b.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        });
        services.AddServerlessBackup(configuration, new SbkHostOptions(baseDirectory, source));
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public async ValueTask DisposeAsync()
    {
        if (services.IsValueCreated)
        {
            await services.Value.DisposeAsync().ConfigureAwait(false);
        }
    }
}
