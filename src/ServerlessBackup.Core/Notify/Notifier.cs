using System.Text.Json.Nodes;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessBackup.Catalog;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Secrets;

namespace ServerlessBackup.Notify;

/// <summary>
/// Delivers notifications to every configured target (Slack, Teams, generic webhook) at once.
/// Best effort by design: a target that fails, refuses or hangs is logged and abandoned after
/// Notifications:TimeoutSeconds; <see cref="NotifyAsync"/> never throws and never takes longer
/// than that, so it cannot break or stall the operation that triggered it.
/// </summary>
public sealed class Notifier
{
    // Webhook bodies are read by chat services, not embedded in HTML: keep quotes and non-ASCII readable.
    private static readonly JsonSerializerOptions Json = new(SbkJson.Web()) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly NotificationOptions options;
    private readonly ISecretStore secrets;
    private readonly HttpClient http;
    private readonly ILogger logger;

    /// <summary>Creates the notifier. <paramref name="http"/> defaults to a client of its own.</summary>
    public Notifier(NotificationOptions options, ISecretStore secrets, HttpClient? http = null, ILogger<Notifier>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(secrets);
        this.options = options;
        this.secrets = secrets;
        this.http = http ?? new HttpClient();
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Whether any target is configured.</summary>
    public bool HasTargets => options.Targets.Count > 0;

    /// <summary>Sends <paramref name="notification"/> to every target; returns how many accepted it.</summary>
    public async Task<int> NotifyAsync(Notification notification, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notification);
        if (options.Targets.Count == 0)
        {
            return 0;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
        var results = await Task.WhenAll(options.Targets.Select(t => SendAsync(t, notification, timeout.Token))).ConfigureAwait(false);
        return results.Count(ok => ok);
    }

    private async Task<bool> SendAsync(NotificationTargetOptions target, Notification notification, CancellationToken cancellationToken)
    {
        try
        {
            var url = await secrets.GetSecretAsync(target.UrlSecret!, null, cancellationToken).ConfigureAwait(false);
            using var response = await http.PostAsJsonAsync(new Uri(url.Reveal()), Payload(target.Kind, notification), Json.Info<JsonObject>(), cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return true;
            }

            logger.LogWarning("The {Kind} notification target (secret {Secret}) answered {Status} to a {Event} notification; it was not delivered.",
                target.Kind, target.UrlSecret, (int)response.StatusCode, notification.Event);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or Errors.SbkException or UriFormatException or IOException)
        {
            logger.LogWarning("The {Kind} notification target (secret {Secret}) could not take a {Event} notification: {Message}",
                target.Kind, target.UrlSecret, notification.Event, ex is OperationCanceledException ? $"no answer within {options.TimeoutSeconds} s" : SecretRedactor.Redact(ex.Message));
        }

        return false;
    }

    /// <summary>The body each kind of target expects.</summary>
    internal static JsonObject Payload(NotificationKind kind, Notification n)
    {
        var next = n.NextCommand is null ? string.Empty : $"\nNext: `{n.NextCommand}`";
        return kind switch
        {
            NotificationKind.Slack => new JsonObject { ["text"] = $"*{n.Title}*\n{n.Text}{next}" },
            NotificationKind.Teams => new JsonObject
            {
                ["type"] = "message",
                ["attachments"] = new JsonArray(new JsonObject
                {
                    ["contentType"] = "application/vnd.microsoft.card.adaptive",
                    ["content"] = new JsonObject
                    {
                        ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
                        ["type"] = "AdaptiveCard",
                        ["version"] = "1.4",
                        ["body"] = new JsonArray(
                            new JsonObject { ["type"] = "TextBlock", ["text"] = n.Title, ["weight"] = "Bolder", ["size"] = "Medium", ["wrap"] = true },
                            new JsonObject { ["type"] = "TextBlock", ["text"] = n.Text, ["wrap"] = true },
                            new JsonObject { ["type"] = "TextBlock", ["text"] = n.NextCommand is null ? " " : "Next: " + n.NextCommand, ["wrap"] = true, ["fontType"] = "Monospace" }),
                    },
                }),
            },
            _ => new JsonObject
            {
                ["schemaVersion"] = 1, ["event"] = n.Event, ["database"] = n.Database, ["title"] = n.Title, ["text"] = n.Text, ["nextCommand"] = n.NextCommand, ["at"] = n.At,
            },
        };
    }
}
