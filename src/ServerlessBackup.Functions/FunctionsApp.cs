using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServerlessBackup.Catalog;
using ServerlessBackup.Errors;
using ServerlessBackup.Hosting;

namespace ServerlessBackup.Functions;

/// <summary>
/// How the Functions app composes the engine: the same <c>AddServerlessBackup</c>
/// as <c>sbk</c>, over the app settings under <c>Sbk__</c> (strictly: a setting the app does not
/// read is an error). <c>Program</c> and the tests both go through here.
/// </summary>
public static class FunctionsApp
{
    /// <summary>How the app settings are described in messages.</summary>
    public const string Source = "the app settings Sbk__* (and Sbk__Json)";

    /// <summary>Registers the engine over <paramref name="configuration"/> (the host's whole configuration).</summary>
    public static IServiceCollection ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddServerlessBackup(SbkConfiguration.ForFunctions(configuration), new SbkHostOptions(AppContext.BaseDirectory, Source, StrictConfiguration: true, HostName: "functions"));
    }

    /// <summary>
    /// Validates the catalog before the worker starts taking work: a bad catalog is one message on
    /// stderr (every problem, each naming its setting, never a value) and a non-zero exit, so the
    /// host reports the worker as failed to start with that message in its log.
    /// </summary>
    /// <returns>Whether the catalog is valid.</returns>
    public static bool Validate(IServiceProvider services, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            services.GetRequiredService<SbkOptions>();
            return true;
        }
        catch (SbkException ex)
        {
            error.WriteLine($"ServerlessBackup cannot start: {ex.Message}");
            return false;
        }
    }
}
