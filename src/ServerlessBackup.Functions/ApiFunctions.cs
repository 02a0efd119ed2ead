using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using ServerlessBackup.Api;
using ServerlessBackup.Catalog;
using ServerlessBackup.Operations;

namespace ServerlessBackup.Functions;

/// <summary>
/// The chat-ops HTTP API: every endpoint of <c>sbk serve</c> at the same route (under the host's
/// <c>api</c> prefix), each body the same three lines: adapt the request, hand it to the
/// transport-neutral <see cref="SbkApi"/> with Durable operations, return its answer. Functions are
/// anonymous to the host: the API authenticates callers itself (API keys, Slack signatures), so a
/// chat-ops bot needs no function key. The catch-all answers every other path and method with the
/// API's own 404 or 405 problem.
/// </summary>
public sealed class ApiFunctions(SbkApi api, SbkOptions options, OperationStore records, TimeProvider time, ILogger<ApiFunctions> logger)
{
    /// <summary>Function names.</summary>
    public const string Health = "Health", Backups = "Backups", Backup = "Backup", Restores = "Restores", Verifications = "Verifications",
        Drills = "Drills", Drill = "Drill-Report", Operation = "Operation-Status", Approve = "Operation-Approve", Reject = "Operation-Reject",
        SlackCommands = "SlackCommands", Fallback = "Fallback";

    /// <summary>GET /api/health.</summary>
    [Function(Health)]
    public Task<IActionResult> HealthAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        HandleAsync(request, client, cancellationToken);

    /// <summary>GET and POST /api/backups.</summary>
    [Function(Backups)]
    public Task<IActionResult> BackupsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = "backups")] HttpRequest request, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        HandleAsync(request, client, cancellationToken);

    /// <summary>GET /api/backups/{database}/{backupId}.</summary>
    [Function(Backup)]
    public Task<IActionResult> BackupAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "backups/{database}/{backupId}")] HttpRequest request, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        HandleAsync(request, client, cancellationToken);

    /// <summary>POST /api/restores.</summary>
    [Function(Restores)]
    public Task<IActionResult> RestoresAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "restores")] HttpRequest request, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        HandleAsync(request, client, cancellationToken);

    /// <summary>POST /api/verifications.</summary>
    [Function(Verifications)]
    public Task<IActionResult> VerificationsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "verifications")] HttpRequest request, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        HandleAsync(request, client, cancellationToken);

    /// <summary>GET and POST /api/drills.</summary>
    [Function(Drills)]
    public Task<IActionResult> DrillsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = "drills")] HttpRequest request, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        HandleAsync(request, client, cancellationToken);

    /// <summary>GET /api/drills/{drillId}: the report as JSON, Markdown or HTML (?format=).</summary>
    [Function(Drill)]
    public Task<IActionResult> DrillAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "drills/{drillId}")] HttpRequest request, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        HandleAsync(request, client, cancellationToken);

    /// <summary>GET /api/operations/{operationId}.</summary>
    [Function(Operation)]
    public Task<IActionResult> OperationAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "operations/{operationId}")] HttpRequest request, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        HandleAsync(request, client, cancellationToken);

    /// <summary>POST /api/operations/{operationId}/approve.</summary>
    [Function(Approve)]
    public Task<IActionResult> ApproveAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "operations/{operationId}/approve")] HttpRequest request, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        HandleAsync(request, client, cancellationToken);

    /// <summary>POST /api/operations/{operationId}/reject.</summary>
    [Function(Reject)]
    public Task<IActionResult> RejectAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "operations/{operationId}/reject")] HttpRequest request, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        HandleAsync(request, client, cancellationToken);

    /// <summary>POST /api/slack/commands: a Slack slash command, acknowledged at once.</summary>
    [Function(SlackCommands)]
    public Task<IActionResult> SlackCommandsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "slack/commands")] HttpRequest request, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        HandleAsync(request, client, cancellationToken);

    /// <summary>Every other path or method: the API's 404 or 405 problem.</summary>
    [Function(Fallback)]
    public Task<IActionResult> FallbackAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", "options", "head", Route = "{*path}")] HttpRequest request, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
        HandleAsync(request, client, cancellationToken);

    private async Task<IActionResult> HandleAsync(HttpRequest request, DurableTaskClient client, CancellationToken cancellationToken)
    {
        var apiRequest = await HttpApiAdapter.ToApiRequestAsync(request, options.Api.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        var response = await api.HandleAsync(apiRequest, new DurableOperations(client, records, time), cancellationToken).ConfigureAwait(false);
        if (response.Status >= 500)
        {
            logger.LogWarning("{Method} {Path} answered {Status}", apiRequest.Method, SbkApi.Clean(apiRequest.Path), response.Status);
        }

        return new ApiActionResult(response);
    }
}
