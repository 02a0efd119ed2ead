using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Api;
using ServerlessBackup.Catalog;
using ServerlessBackup.Operations;

namespace ServerlessBackup.Cli.Serve;

/// <summary>
/// Hosts the transport-neutral <see cref="SbkApi"/> on Kestrel (ASP.NET Core minimal API): every
/// request under /api goes through <see cref="HttpApiAdapter"/>, the same adapter the Functions
/// app's HTTP triggers use. Operations run in this process (<see cref="InProcessOperations"/>);
/// they are cancelled (and recorded as such) on shutdown.
/// </summary>
internal sealed class ServeHost : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly InProcessOperations operations;

    private ServeHost(WebApplication app, InProcessOperations operations, IReadOnlyList<string> addresses)
    {
        this.app = app;
        this.operations = operations;
        Addresses = addresses;
    }

    /// <summary>The addresses Kestrel listens on (with the real port when 0 was asked for).</summary>
    public IReadOnlyList<string> Addresses { get; }

    /// <summary>The operations this host runs (tests wait on them).</summary>
    public InProcessOperations Operations => operations;

    public static async Task<ServeHost> StartAsync(IServiceProvider services, string urls, CancellationToken cancellationToken)
    {
        var options = services.GetRequiredService<SbkOptions>();
        var operations = ActivatorUtilities.CreateInstance<InProcessOperations>(services);
        var api = services.GetRequiredService<SbkApi>();
        operations.Finished += _ => api.InvalidateReads();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("sbk serve");
        // In the background: the store may be slow or down right now, and the server answers anyway
        // (health says 503); an operation a stopped server left behind is also settled when it is next read.
        _ = Task.Run(async () =>
        {
            try
            {
                await operations.RecoverAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Errors.SbkException ex)
            {
                logger.LogWarning("Could not look for operations a stopped server left behind: {Message}", Diagnostics.SecretRedactor.Redact(ex.Message));
            }
        }, CancellationToken.None);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(k =>
        {
            // Our own cap answers with a problem body; Kestrel's backstop stops anything absurd.
            k.Limits.MaxRequestBodySize = Math.Max(options.Api.MaxBodyBytes * 16L, 1024 * 1024);
            k.AddServerHeader = false;
        });
        var app = builder.Build();
        var cap = options.Api.MaxBodyBytes;
        app.Map("/api/{**rest}", async context =>
        {
            var request = await HttpApiAdapter.ToApiRequestAsync(context.Request, cap, context.RequestAborted).ConfigureAwait(false);
            var response = await api.HandleAsync(request, operations, context.RequestAborted).ConfigureAwait(false);
            if (response.Status >= 500)
            {
                logger.LogWarning("{Method} {Path} answered {Status}", request.Method, SbkApi.Clean(request.Path), response.Status);
            }

            await HttpApiAdapter.WriteAsync(context.Response, response, context.RequestAborted).ConfigureAwait(false);
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
        return new ServeHost(app, operations, addresses);
    }

    /// <summary>
    /// Runs until <paramref name="cancellationToken"/> is cancelled or the host is told to stop. The
    /// host's console lifetime takes SIGINT and SIGTERM (Ctrl+C, docker stop) for itself and stops
    /// the application, so its stopping token is what ends the wait.
    /// </summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        var lifetime = app.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>();
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        await Task.Delay(Timeout.Infinite, either.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await operations.DisposeAsync().ConfigureAwait(false);
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }
}
