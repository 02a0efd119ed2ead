using System.CommandLine;
using Spectre.Console;

namespace ServerlessBackup.Cli.Commands;

/// <summary><c>sbk run-due [--max-parallel N] [--dry-run] [--json]</c>: what the scheduler's timer runs.</summary>
internal sealed class RunDueCommand : SbkCommand
{
    private readonly Option<int?> maxParallel = GlobalOptions.Count("--max-parallel", 1, 32, "Backups at once (default: MaxParallelBackups, 2).");
    private readonly Option<bool> dryRun = new("--dry-run") { Description = "Only say which databases are due." };
    private readonly Option<bool> json = GlobalOptions.Json();

    public RunDueCommand(Interaction interaction)
        : base("run-due", "Back up every catalogued database whose schedule says it is due (a missed slot catches up once); one failure does not stop the others.", interaction)
    {
        Options.Add(maxParallel);
        Options.Add(dryRun);
        Options.Add(json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
    {
        var results = await context.Get<Schedules.RunDue>().RunAsync(parseResult.GetValue(maxParallel), parseResult.GetValue(dryRun), cancellationToken).ConfigureAwait(false);
        if (parseResult.GetValue(json))
        {
            Interaction.WriteJson(results);
        }
        else
        {
            var table = new Table().AddColumns("Database", "Outcome", "Backup id", "Why");
            foreach (var r in results)
            {
                table.AddRow(Markup.Escape(r.Database), r.Outcome, r.BackupId ?? string.Empty, Markup.Escape(r.Error ?? r.Reason));
            }

            Interaction.Console_.Write(table);
        }

        return results.Any(r => r.Outcome == "failed") ? ExitCodes.Failed : ExitCodes.Ok;
    }
}
