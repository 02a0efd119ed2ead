using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using ServerlessBackup.Catalog;
using ServerlessBackup.Errors;
using ServerlessBackup.Hosting;
using ServerlessBackup.Secrets;

namespace ServerlessBackup.Cli;

/// <summary>Loads the configuration a command runs with (<c>--config</c>, default sbk.json, plus SBK_* variables).</summary>
internal sealed class CliContext
{
    public const string DefaultConfigFile = "sbk.json";

    private CliContext(SbkOptions options, string baseDirectory, string source, Interaction interaction, bool verbose)
    {
        Options = options;
        BaseDirectory = baseDirectory;
        Source = source;
        Interaction = interaction;
        Verbose = verbose;
    }

    public SbkOptions Options { get; }

    public string BaseDirectory { get; }

    public string Source { get; }

    public Interaction Interaction { get; }

    public bool Verbose { get; }

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
        var options = SbkEnvironment.BindOptions(configuration, source);
        return new CliContext(options, Path.GetDirectoryName(path)!, source, interaction, verbose);
    }

    public ISecretStore CreateSecretStore() => SbkEnvironment.CreateSecretStore(Options, BaseDirectory);

    public Task<SbkEnvironment> CreateEnvironmentAsync(CancellationToken cancellationToken)
    {
        // Logs go to stderr so that stdout stays clean for results and --json.
        var loggerFactory = LoggerFactory.Create(b =>
        {
            b.AddSimpleConsole(o => o.SingleLine = true)
                .SetMinimumLevel(Verbose ? LogLevel.Information : LogLevel.Warning)
                .AddFilter("Microsoft", LogLevel.Warning);
            b.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        });
        return SbkEnvironment.CreateAsync(Options, BaseDirectory, loggerFactory, cancellationToken);
    }
}
