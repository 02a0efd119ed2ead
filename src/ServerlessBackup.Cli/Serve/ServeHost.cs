using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Api;
using ServerlessBackup.Hosting;

namespace ServerlessBackup.Cli.Serve;

/// <summary>
/// Hosts the transport-neutral <see cref="SbkApi"/> on Kestrel (ASP.NET Core minimal API): every
/// request under /api becomes an <see cref="ApiRequest"/>; bodies are read up to the configured cap
/// only. Operations run in-process and are cancelled (and recorded as such) on shutdown.
/// </summary>
internal sealed class ServeHost : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly OperationRunner runner;

    private ServeHost(WebApplication app, OperationRunner runner, IReadOnlyList<string> addresses)
    {
        this.app = app;
        this.runner = runner;
        Addresses = addresses;
    }

    /// <summary>The addresses Kestrel listens on (with the real port when 0 was asked for).</summary>
    public IReadOnlyList<string> Addresses { get; }

    /// <summary>The runner (tests wait on it).</summary>
    public OperationRunner Runner => runner;

    public static async Task<ServeHost> StartAsync(SbkEnvironment environment, string urls, ILoggerFactory? loggers, CancellationToken cancellationToken)
    {
        var options = environment.Options;
        var runner = new OperationRunner(environment.Backups, environment.Scheduler, environment.Restores, options.Api.MaxConcurrentOperations, TimeProvider.System, null, loggers?.CreateLogger<OperationRunner>());
        await runner.RecoverAsync(cancellationToken).ConfigureAwait(false);
        var api = new SbkApi(options, environment.Backups, environment.Scheduler, runner, environment.Secrets, TimeProvider.System, loggers?.CreateLogger<SbkApi>());

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
            var request = await ToApiRequestAsync(context, cap).ConfigureAwait(false);
            var response = await api.HandleAsync(request, context.RequestAborted).ConfigureAwait(false);
            context.Response.StatusCode = response.Status;
            context.Response.ContentType = response.ContentType;
            foreach (var (name, value) in response.Headers)
            {
                context.Response.Headers[name] = value;
            }

            await context.Response.Body.WriteAsync(response.Body, context.RequestAborted).ConfigureAwait(false);
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
        return new ServeHost(app, runner, addresses);
    }

    private static async Task<ApiRequest> ToApiRequestAsync(HttpContext context, int cap)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while (buffer.Length <= cap && (n = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            // Read at most one byte past the cap: enough to know the body is too large.
            buffer.Write(chunk, 0, (int)Math.Min(n, cap + 1 - buffer.Length));
        }

        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var query = context.Request.Query.ToDictionary(q => q.Key, q => q.Value.FirstOrDefault() ?? string.Empty, StringComparer.Ordinal);
        return new ApiRequest(context.Request.Method, context.Request.Path.Value ?? "/", query, headers, buffer.ToArray(), context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
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
        await runner.DisposeAsync().ConfigureAwait(false);
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }
}
