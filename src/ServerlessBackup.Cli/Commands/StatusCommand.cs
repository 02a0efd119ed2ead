using System.CommandLine;
using System.Globalization;
using ServerlessBackup.Schedules;
using Spectre.Console;

namespace ServerlessBackup.Cli.Commands;

/// <summary><c>sbk status [--json] [--notify]</c>: each database's freshness; exit 1 when any is not OK.</summary>
internal sealed class StatusCommand : SbkCommand
{
    private readonly Option<bool> notify = new("--notify") { Description = "Also notify the configured targets of every LATE database." };
    private readonly Option<bool> json = GlobalOptions.Json();

    public StatusCommand(Interaction interaction)
        : base("status", "Show each database's newest and newest verified backup, their ages, its objective, and OK / LATE / FAILING (exit 1 unless all OK).", interaction)
    {
        Options.Add(notify);
        Options.Add(json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
    {
        var statuses = await context.Get<Schedules.Scheduler>().GetStatusAsync(cancellationToken).ConfigureAwait(false);
        if (parseResult.GetValue(notify))
        {
            await context.Get<Schedules.Scheduler>().NotifyUnhealthyAsync(statuses, cancellationToken).ConfigureAwait(false);
        }

        if (parseResult.GetValue(json))
        {
            Interaction.WriteJson(statuses);
        }
        else if (statuses.Count == 0)
        {
            Interaction.WriteLine("No databases are catalogued.");
        }
        else
        {
            var table = new Table().AddColumns("Database", "State", "Newest backup", "Age h", "Newest verified", "Objective h", "Next due", "Summary");
            foreach (var s in statuses)
            {
                table.AddRow(Markup.Escape(s.Database), s.State.ToString().ToUpperInvariant(), s.LastBackupId ?? "-",
                    s.LastBackupAgeHours?.ToString("0.0", CultureInfo.InvariantCulture) ?? "-",
                    s.LastVerifiedId is null ? "-" : $"{s.LastVerifiedId} ({s.LastVerifiedLevel?.ToString().ToLowerInvariant()})",
                    s.RpoHours.ToString("0.#", CultureInfo.InvariantCulture),
                    s.NextDue?.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "-", Markup.Escape(s.Summary));
            }

            Interaction.Console_.Write(table);
        }

        return statuses.All(s => s.State == FreshnessState.Ok) ? ExitCodes.Ok : ExitCodes.Failed;
    }
}
