using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ServerlessBackup.Operations;

/// <summary>
/// Posts an operation's outcome to the Slack response URL it was started from. Best effort: a
/// failing or slow Slack never changes the operation's outcome.
/// </summary>
public sealed class OperationNotices
{
    private static readonly JsonSerializerOptions SlackJson = new(SbkJson.Web()) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly HttpClient http;
    private readonly ILogger logger;

    /// <summary>Creates the poster; <paramref name="http"/> defaults to a client with a 10 s timeout.</summary>
    public OperationNotices(HttpClient? http = null, ILogger<OperationNotices>? logger = null)
    {
        this.http = http ?? new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Posts the outcome of <paramref name="record"/> (an ended operation) if it came from Slack; returns whether Slack accepted it.</summary>
    public async Task<bool> PostOutcomeAsync(OperationRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.ResponseUrl is null)
        {
            return false;
        }

        try
        {
            using var response = await http.PostAsJsonAsync(new Uri(record.ResponseUrl), new SlackReply("in_channel", $"{Describe(record)} (operation {record.Id})"), SlackJson.Info<SlackReply>(), cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                logger.LogWarning("Slack's response URL answered {Status} for operation {Id}.", (int)response.StatusCode, record.Id);
            }

            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            logger.LogWarning("Could not post the outcome of operation {Id} to Slack: {Message}", record.Id, ex.Message);
            return false;
        }
    }

    private static string Describe(OperationRecord record)
    {
        string? Result(string name) => record.Result is { ValueKind: JsonValueKind.Object } r && r.TryGetProperty(name, out var v) ? v.ToString() : null;
        if (record.Status == OperationStatus.Succeeded)
        {
            return record.Kind switch
            {
                OperationKinds.Backup => $"Backup of `{record.Database}` done: {Result("backupId")}.",
                OperationKinds.Restore => $"Restore of `{record.Database}` done, into {(Result("targetIsScratch") == "True" ? "scratch database" : "database")} `{Result("target")}`.",
                OperationKinds.Drill => $"Restore drill {record.Id}: {Result("passed")} of {Result("databases")} databases passed.",
                _ => $"Verification of `{record.Database}` {(Result("passed") == "True" ? "PASSED" : "FAILED")} (backup {Result("backupId")}).",
            };
        }

        return $"{char.ToUpperInvariant(record.Kind[0])}{record.Kind[1..]} of `{record.Database}` {record.Status}: {record.Error}";
    }
}
