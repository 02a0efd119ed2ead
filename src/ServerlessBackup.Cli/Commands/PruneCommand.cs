using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace ServerlessBackup.Cli.Commands;

/// <summary><c>sbk prune [&lt;database&gt;] [--dry-run] [--json]</c></summary>
internal sealed class PruneCommand : SbkCommand
{
    private readonly Argument<string?> database = new("database") { Description = "Only this database (default: every catalogued database).", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<bool> dryRun = new("--dry-run") { Description = "Decide and print, delete nothing." };
    private readonly Option<bool> json = GlobalOptions.Json();

    public PruneCommand(Interaction interaction)
        : base("prune", "Apply retention: print keep or delete, and the rule that decided, for every backup; delete (manifest first) unless --dry-run; sweep crashed backups' leftovers.", interaction)
    {
        Arguments.Add(database);
        Options.Add(dryRun);
        Options.Add(json);
    }

    protected override (string Action, string? Target)? Audited(ParseResult parseResult) =>
        parseResult.GetValue(dryRun) ? null : ("prune", parseResult.GetValue(database) ?? "every database");

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
    {
        var reports = await context.Get<Retention.RetentionEngine>().PruneAsync(parseResult.GetValue(database), parseResult.GetValue(dryRun), cancellationToken).ConfigureAwait(false);
        if (parseResult.GetValue(json))
        {
            Interaction.WriteJson(reports);
            return ExitCodes.Ok;
        }

        foreach (var r in reports)
        {
            var deleting = r.Decisions.Count(d => !d.Keep);
            Interaction.WriteLine($"{r.Database}: {r.Decisions.Count} backups, {(r.DryRun ? $"{deleting} would be deleted" : $"{r.Deleted} deleted")}{(r.OrphansSwept.Count > 0 ? $", {r.OrphansSwept.Count} crashed backup(s) {(r.DryRun ? "would be " : string.Empty)}swept" : string.Empty)}{(r.RetentionConfigured ? string.Empty : " (no retention rules: everything is kept)")}");
            if (r.Decisions.Count == 0)
            {
                continue;
            }

            var table = new Table().AddColumns("Backup id", "Started (UTC)", "Label", "Decision", "Rule");
            foreach (var d in r.Decisions)
            {
                table.AddRow(d.BackupId, d.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), Markup.Escape(d.Label ?? string.Empty), d.Keep ? "keep" : "DELETE", Markup.Escape(d.Rule));
            }

            Interaction.Console_.Write(table);
        }

        return ExitCodes.Ok;
    }
}
