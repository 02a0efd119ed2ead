using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ServerlessBackup.Tests.Infrastructure;

/// <summary>What the proxy does to one request.</summary>
internal enum Fault
{
    /// <summary>Forward it and its answer.</summary>
    None,

    /// <summary>Forward it (so a write lands), then drop the connection instead of answering.</summary>
    LoseResponse,

    /// <summary>Drop the connection without forwarding.</summary>
    Reset,

    /// <summary>Answer 500 without forwarding.</summary>
    ServerError,

    /// <summary>Answer 503 (server busy) without forwarding.</summary>
    Busy,
}

/// <summary>
/// A reverse proxy in front of Azurite (real Kestrel on loopback) that injects the faults real
/// storage networks produce: lost answers to requests that landed, resets, 500s and 503s, as a
/// policy decides per request. Shared-key signatures do not cover the host, so the SDK talks to
/// it exactly as to Azurite.
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly HttpClient upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });

    private FaultProxy(WebApplication app) => this.app = app;

    /// <summary>The proxy's blob endpoint (same account path as Azurite's).</summary>
    public Uri BlobEndpoint { get; private set; } = null!;

    /// <summary>Every request seen, with the fault applied: "PUT /devstoreaccount1/c/key?comp=… → LoseResponse".</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>Decides each request's fault; replace it at any time.</summary>
    public Func<HttpRequest, Fault> Policy { get; set; } = _ => Fault.None;

    /// <summary>A storage connection string that goes through the proxy.</summary>
    public string ConnectionString => TestServers.AzuriteConnectionString().Replace(TestServers.AzuriteBlobEndpoint.ToString(), BlobEndpoint.ToString(), StringComparison.Ordinal);

    public static async Task<FaultProxy> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var proxy = new FaultProxy(app);
        app.Run(proxy.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        proxy.BlobEndpoint = new Uri(new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)), TestServers.AzuriteBlobEndpoint.AbsolutePath);
        return proxy;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var fault = Policy(context.Request);
        Log.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString} → {fault}");
        switch (fault)
        {
            case Fault.Reset:
                context.Abort();
                return;
            case Fault.ServerError or Fault.Busy:
                context.Response.StatusCode = fault == Fault.Busy ? 503 : 500;
                return;
        }

        // Same path (the account is its first segment), Azurite's host.
        var target = new Uri(TestServers.AzuriteBlobEndpoint.GetLeftPart(UriPartial.Authority) + context.Request.Path.ToUriComponent() + context.Request.QueryString);
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), target);
        if (context.Request.ContentLength > 0 || context.Request.Headers.ContainsKey("Transfer-Encoding"))
        {
            var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            body.Position = 0;
            request.Content = new StreamContent(body);
        }

        foreach (var (name, values) in context.Request.Headers)
        {
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!);
            }
        }

        using var response = await upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        if (fault == Fault.LoseResponse)
        {
            await response.Content.LoadIntoBufferAsync();
            context.Abort();
            return;
        }

        context.Response.StatusCode = (int)response.StatusCode;

        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        upstream.Dispose();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await app.StopAsync(stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        await app.DisposeAsync();
    }
}
