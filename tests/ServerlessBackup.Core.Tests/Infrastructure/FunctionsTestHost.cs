using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServerlessBackup.Catalog;
using ServerlessBackup.Functions;

namespace ServerlessBackup.Tests.Infrastructure;

/// <summary>
/// The Functions app as the Functions host would run it, minus the host itself (which cannot run
/// here): the worker's services composed by <see cref="FunctionsApp"/>, the functions found from
/// the built functions.metadata (names, triggers, routes, methods), HTTP functions called through
/// their own request types by a router that follows the metadata's routes, and every orchestration
/// and activity of the app registered under its function name on the real Durable Task runtime,
/// in process.
/// </summary>
internal sealed class FunctionsTestHost : IAsyncDisposable
{
    private readonly ServiceProvider services;
    private readonly DurableTaskTestHost durable;

    private FunctionsTestHost(ServiceProvider services, DurableTaskTestHost durable, IReadOnlyList<FunctionEntry> functions)
    {
        this.services = services;
        this.durable = durable;
        Functions = functions;
        Http = new HttpClient(new Router(this)) { BaseAddress = new Uri("http://functions.test"), Timeout = TimeSpan.FromMinutes(2) };
    }

    public IServiceProvider Services => services;

    public DurableTaskClient Client => durable.Client;

    public IReadOnlyList<FunctionEntry> Functions { get; }

    /// <summary>An HTTP client whose requests are answered by the app's HTTP functions.</summary>
    public HttpClient Http { get; }

    public static Assembly App => typeof(FunctionsApp).Assembly;

    /// <summary>
    /// What each orchestration reads with <c>GetInput</c>. The Functions worker deserializes an
    /// orchestration's input lazily, as the type asked for; the SDK's test runtime needs it up front.
    /// </summary>
    private static readonly Dictionary<string, Type> OrchestrationInputs = new(StringComparer.Ordinal)
    {
        [Operations.OperationWorkflow.Name] = typeof(Operations.OperationRecord),
        [Operations.DurableOperations.DrillOrchestrationName] = typeof(Operations.OperationRecord),
        [Schedules.RunDueWorkflow.Name] = typeof(Schedules.RunDueInput),
    };

    /// <summary>The built functions.metadata: what the Functions host indexes.</summary>
    public static IReadOnlyList<FunctionEntry> ReadMetadata()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "functions.metadata");
        Assert.True(File.Exists(path), $"{path} is missing: the Functions project's build did not produce functions.metadata.");
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        return json.RootElement.EnumerateArray().Select(f => new FunctionEntry(
            f.GetProperty("name").GetString()!,
            f.GetProperty("entryPoint").GetString()!,
            f.GetProperty("scriptFile").GetString()!,
            f.GetProperty("bindings").EnumerateArray().Select(b => b.Clone()).ToList())).ToList();
    }

    /// <summary>Composes the worker's services as Program does (options given, so tests control the catalog) and starts the Durable runtime.</summary>
    public static async Task<FunctionsTestHost> StartAsync(SbkOptions options, Action<IServiceCollection>? configure = null, Func<string, ITaskOrchestrator, ITaskOrchestrator>? wrapOrchestrator = null)
    {
        var collection = new ServiceCollection();
        collection.AddSingleton(options);
        FunctionsApp.ConfigureServices(collection, new ConfigurationBuilder().Build());
        configure?.Invoke(collection);
        var provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var functions = ReadMetadata();
        var durable = await DurableTaskTestHost.StartAsync(registry =>
        {
            foreach (var f in functions)
            {
                var method = f.Method;
                switch (f.Trigger.GetProperty("type").GetString())
                {
                    case "orchestrationTrigger":
                        Assert.True(OrchestrationInputs.TryGetValue(f.Name, out var inputType), $"The orchestration {f.Name} has no input type in FunctionsTestHost.OrchestrationInputs.");
                        ITaskOrchestrator orchestrator = new FunctionOrchestrator(method, inputType!);
                        registry.AddOrchestrator(f.Name, wrapOrchestrator?.Invoke(f.Name, orchestrator) ?? orchestrator);
                        break;
                    case "activityTrigger":
                        registry.AddActivity(f.Name, new FunctionActivity(method, provider));
                        break;
                }
            }
        }, new DurableTaskTestHostOptions { Port = FreePort() });
        return new FunctionsTestHost(provider, durable, functions);
    }

    /// <summary>Invokes a timer function as the host would on its schedule.</summary>
    public async Task InvokeTimerAsync(string name, CancellationToken cancellationToken = default)
    {
        var f = Functions.Single(x => x.Name == name);
        Assert.Equal("timerTrigger", f.Trigger.GetProperty("type").GetString());
        await InvokeAsync(f, new Dictionary<Type, object> { [typeof(TimerInfo)] = new TimerInfo() }, cancellationToken);
    }

    /// <summary>Waits for an orchestration to end; its metadata (inputs and outputs included).</summary>
    public async Task<OrchestrationMetadata> WaitAsync(string instanceId, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        return await Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, cancel.Token);
    }

    private async Task<object?> InvokeAsync(FunctionEntry f, Dictionary<Type, object> values, CancellationToken cancellationToken)
    {
        values[typeof(DurableTaskClient)] = Client;
        values[typeof(CancellationToken)] = cancellationToken;
        var method = f.Method;
        var target = method.IsStatic ? null : ActivatorUtilities.CreateInstance(services, method.DeclaringType!);
        var arguments = method.GetParameters().Select(p => values.TryGetValue(p.ParameterType, out var v) ? v : throw new InvalidOperationException($"{f.Name}: no value for parameter {p.Name} ({p.ParameterType.Name}).")).ToArray();
        var result = method.Invoke(target, BindingFlags.DoNotWrapExceptions, null, arguments, null);
        if (result is Task task)
        {
            await task;
            return task.GetType().IsGenericType ? task.GetType().GetProperty("Result")!.GetValue(task) : null;
        }

        return result;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await durable.DisposeAsync();
        await services.DisposeAsync();
    }

    /// <summary>One function of functions.metadata.</summary>
    internal sealed record FunctionEntry(string Name, string EntryPoint, string ScriptFile, IReadOnlyList<JsonElement> Bindings)
    {
        public JsonElement Trigger => Bindings.Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));

        public MethodInfo Method
        {
            get
            {
                var split = EntryPoint.LastIndexOf('.');
                var type = App.GetType(EntryPoint[..split], throwOnError: true)!;
                return type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static).Single(m => m.Name == EntryPoint[(split + 1)..]);
            }
        }
    }

    /// <summary>An orchestrator function of the app, run by the Durable runtime under its function name.</summary>
    private sealed class FunctionOrchestrator(MethodInfo method, Type inputType) : ITaskOrchestrator
    {
        public Type InputType => inputType;

        public Type OutputType => method.ReturnType.GetGenericArguments()[0];

        public async Task<object?> RunAsync(TaskOrchestrationContext context, object? input)
        {
            var task = (Task)method.Invoke(null, BindingFlags.DoNotWrapExceptions, null, [context], null)!;
            await task;
            return task.GetType().GetProperty("Result")!.GetValue(task);
        }
    }

    /// <summary>An activity function of the app: its class made from the worker's services, its trigger parameter bound to the input.</summary>
    private sealed class FunctionActivity(MethodInfo method, IServiceProvider services) : ITaskActivity
    {
        public Type InputType => method.GetParameters()[0].ParameterType;

        public Type OutputType => method.ReturnType.GetGenericArguments()[0];

        public async Task<object?> RunAsync(TaskActivityContext context, object? input)
        {
            var target = ActivatorUtilities.CreateInstance(services, method.DeclaringType!);
            var task = (Task)method.Invoke(target, BindingFlags.DoNotWrapExceptions, null, [input, CancellationToken.None], null)!;
            await task;
            return task.GetType().GetProperty("Result")!.GetValue(task);
        }
    }

    /// <summary>Routes a request to the HTTP function whose metadata route and methods match, as the host does (literal segments before parameters before a catch-all).</summary>
    private sealed class Router(FunctionsTestHost host) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var context = new DefaultHttpContext();
            context.Request.Method = request.Method.Method;
            // As Kestrel does: decode the path, but refuse what no server accepts (a NUL).
            var rawPath = request.RequestUri!.AbsolutePath;
            if (rawPath.Contains("%00", StringComparison.Ordinal))
            {
                return new HttpResponseMessage(HttpStatusCode.BadRequest) { RequestMessage = request, Content = new ByteArrayContent([]) };
            }

            context.Request.Path = PathString.FromUriComponent(request.RequestUri!);
            context.Request.QueryString = QueryString.FromUriComponent(request.RequestUri!);
            context.Connection.RemoteIpAddress = IPAddress.Loopback;
            foreach (var (name, values) in request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>()))
            {
                context.Request.Headers[name] = values.ToArray();
            }

            var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
            context.Request.Body = new MemoryStream(body);
            context.Request.ContentLength = body.Length;
            var responseBody = new MemoryStream();
            context.Response.Body = responseBody;

            var function = Match(context.Request.Path.Value ?? "/", request.Method.Method);
            if (function is null)
            {
                return new HttpResponseMessage(HttpStatusCode.NotFound) { RequestMessage = request, Content = new ByteArrayContent([]) };
            }

            var result = (IActionResult)(await host.InvokeAsync(function, new Dictionary<Type, object> { [typeof(HttpRequest)] = context.Request }, cancellationToken))!;
            await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
            var response = new HttpResponseMessage((HttpStatusCode)context.Response.StatusCode) { RequestMessage = request, Content = new ByteArrayContent(responseBody.ToArray()) };
            foreach (var (name, values) in context.Response.Headers)
            {
                if (!response.Headers.TryAddWithoutValidation(name, values.ToArray()))
                {
                    response.Content.Headers.TryAddWithoutValidation(name, values.ToArray());
                }
            }

            return response;
        }

        private FunctionEntry? Match(string path, string method)
        {
            if (!path.StartsWith("/api/", StringComparison.Ordinal))
            {
                return null;
            }

            var segments = path["/api/".Length..].Split('/');
            return host.Functions
                .Where(f => f.Trigger.GetProperty("type").GetString() == "httpTrigger")
                .Select(f => (Function: f, Score: Score(f.Trigger.GetProperty("route").GetString()!, segments)))
                .Where(m => m.Score >= 0 && m.Function.Trigger.GetProperty("methods").EnumerateArray().Any(x => x.GetString()!.Equals(method, StringComparison.OrdinalIgnoreCase)))
                .OrderByDescending(m => m.Score)
                .Select(m => m.Function)
                .FirstOrDefault();
        }

        /// <summary>-1 when the template does not match; otherwise higher for more specific templates.</summary>
        private static int Score(string template, string[] segments)
        {
            var parts = template.Split('/');
            var score = 0;
            for (var i = 0; i < parts.Length; i++)
            {
                if (parts[i].StartsWith("{*", StringComparison.Ordinal))
                {
                    return score;
                }

                if (i >= segments.Length)
                {
                    return -1;
                }

                if (parts[i].StartsWith('{'))
                {
                    score += 1;
                }
                else if (parts[i].Equals(segments[i], StringComparison.OrdinalIgnoreCase))
                {
                    score += 100;
                }
                else
                {
                    return -1;
                }
            }

            return parts.Length == segments.Length ? score + 10000 : -1;
        }
    }
}
