using ServerlessBackup.Catalog;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>
/// The API suite through the Functions app's HTTP functions, called with their own request types
/// and routed by the built functions.metadata, with operations as orchestrations on the real
/// Durable Task runtime in process. (The Functions host itself cannot run here.)
/// </summary>
public sealed class FunctionsApiTests : ApiSuite
{
    protected override async Task<(HttpClient Http, IServiceProvider Services, IAsyncDisposable Host)> StartHostAsync(SbkOptions options, string directory)
    {
        var host = await FunctionsTestHost.StartAsync(options);
        return (host.Http, host.Services, host);
    }
}
