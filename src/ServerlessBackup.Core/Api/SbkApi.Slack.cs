using System.Globalization;
using System.Text;
using System.Web;
using ServerlessBackup.Backups;
using ServerlessBackup.Errors;
using ServerlessBackup.Operations;
using ServerlessBackup.Schedules;

namespace ServerlessBackup.Api;

public sealed partial class SbkApi
{
    private const string SlackHelp = "Commands: `backup <db> [label]`, `list <db>`, `status`, `restore <db> latest` (into a scratch database), `verify <db>`, `help`.";

    /// <summary>
    /// A Slack slash command. Verified by its signature, answered at once with an ephemeral
    /// acknowledgement (Slack waits three seconds at most); the outcome of a long operation is
    /// posted to the command's response URL when it ends.
    /// </summary>
    private async Task<(ApiResponse Response, string Caller, string? OperationId)> SlackAsync(ApiRequest request, IOperationService operations, CancellationToken cancellationToken)
    {
        var refused = await authenticator.VerifySlackAsync(request.Headers, request.Body, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return (ApiResults.Problem(401, "bad-slack-signature", "Not a genuine Slack request", $"Refused: {refused}."), "anonymous", null);
        }

        var form = HttpUtility.ParseQueryString(Encoding.UTF8.GetString(request.Body.Span));
        var user = Clean(form["user_name"] ?? form["user_id"] ?? "unknown");
        var caller = new ApiCaller("slack:" + user, "slack");
        var words = (form["text"] ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var responseUrl = form["response_url"];
        if (responseUrl is not null && !responseUrl.StartsWith(options.Api.SlackResponseUrlPrefix, StringComparison.Ordinal))
        {
            responseUrl = null;
        }

        var now = time.GetUtcNow();
        string answer;
        string? operationId = null;
        try
        {
            switch (words.FirstOrDefault()?.ToLowerInvariant())
            {
                case "status":
                {
                    var statuses = await scheduler.GetStatusAsync(cancellationToken).ConfigureAwait(false);
                    answer = statuses.Count == 0 ? "No databases are catalogued." : string.Join("\n", statuses.Select(s => $"`{s.Database}`: {s.State.ToString().ToUpperInvariant()}, {s.Summary}"));
                    break;
                }

                case "list" when words.Length == 2:
                {
                    RequireDatabase(words[1]);
                    var list = (await backups.ListAsync(words[1], cancellationToken).ConfigureAwait(false)).Take(5).ToList();
                    answer = list.Count == 0 ? $"`{words[1]}` has no backups yet." : string.Join("\n", list.Select(b =>
                        $"{b.BackupId} ({b.StartedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC{(b.Label is null ? string.Empty : ", " + b.Label)}{(b.Verified is null ? string.Empty : ", verified " + b.Verified.Level.ToString().ToLowerInvariant())})"));
                    break;
                }

                case "backup" when words.Length is 2 or 3:
                {
                    RequireDatabase(words[1]);
                    var label = words.Length == 3 ? words[2] : null;
                    if (label is not null && !BackupEngine.IsValidLabel(label))
                    {
                        answer = "A label is 1-64 letters, digits, '.', '_' or '-'.";
                        break;
                    }

                    (answer, operationId) = await SubmitFromSlackAsync(operations, new OperationRecord
                    {
                        Id = operations.NewId(OperationKinds.Backup), Kind = OperationKinds.Backup, Database = words[1], Label = label, Status = OperationStatus.Queued, CreatedBy = caller.Name, CreatedAt = now, UpdatedAt = now, ResponseUrl = responseUrl,
                    }, cancellationToken).ConfigureAwait(false);
                    break;
                }

                case "restore" when words.Length == 3 && words[2] == "latest":
                case "verify" when words.Length == 2:
                {
                    RequireDatabase(words[1]);
                    await RequireBackupAsync(words[1], "latest", cancellationToken).ConfigureAwait(false);
                    var restore = words[0].Equals("restore", StringComparison.OrdinalIgnoreCase);
                    (answer, operationId) = await SubmitFromSlackAsync(operations, new OperationRecord
                    {
                        Id = operations.NewId(OperationKinds.Restore), Kind = restore ? OperationKinds.Restore : OperationKinds.Verification, Database = words[1], Backup = "latest", Target = restore ? "scratch" : null,
                        Level = restore ? null : "assertions", Status = OperationStatus.Queued, CreatedBy = caller.Name, CreatedAt = now, UpdatedAt = now, ResponseUrl = responseUrl,
                    }, cancellationToken).ConfigureAwait(false);
                    break;
                }

                default:
                    answer = SlackHelp;
                    break;
            }
        }
        catch (SbkException ex) when (ex.Kind is SbkErrorKind.NotFound or SbkErrorKind.Configuration)
        {
            answer = ex.Message;
        }

        return (ApiResults.Ok(new SlackReply("ephemeral", answer)), caller.Name, operationId);
    }

    private static async Task<(string Answer, string? OperationId)> SubmitFromSlackAsync(IOperationService operations, OperationRecord record, CancellationToken cancellationToken)
    {
        var (submitted, conflict) = await operations.SubmitAsync(record, cancellationToken).ConfigureAwait(false);
        if (conflict)
        {
            return ($"A {submitted.Kind} of `{submitted.Database}` is already {submitted.Status} ({submitted.Id}); try again when it has ended.", submitted.Id);
        }

        var what = record.Kind switch { "backup" => "Backup", "restore" => "Restore into a scratch database", _ => "Verification" };
        return ($"{what} of `{record.Database}` started ({submitted.Id}). {(record.ResponseUrl is null ? "Ask `status` later for the outcome." : "I'll post the outcome here when it ends.")}", submitted.Id);
    }
}
