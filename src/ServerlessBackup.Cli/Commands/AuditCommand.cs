using System.CommandLine;
using System.Globalization;
using ServerlessBackup.Audit;
using ServerlessBackup.Restore;
using Spectre.Console;

namespace ServerlessBackup.Cli.Commands;

/// <summary><c>sbk audit [--since 7d] [--caller NAME] [--action TEXT] [--database NAME] [--json]</c>: who did what.</summary>
internal sealed class AuditCommand : SbkCommand
{
    private readonly Option<string> since = new("--since") { Description = "From when: a span ago (24h, 7d) or a time with its zone (2026-11-30T14:05Z). Default 7d.", DefaultValueFactory = _ => "7d" };
    private readonly Option<string?> caller = new("--caller") { Description = "Only this caller (an API key's name, or user@machine)." };
    private readonly Option<string?> action = new("--action") { Description = "Only actions containing this text (restore, decrypt, approve, hold, keys…)." };
    private readonly Option<string?> database = new("--database") { Description = "Only entries about this database." };
    private readonly Option<bool> json = GlobalOptions.Json();

    public AuditCommand(Interaction interaction)
        : base("audit", "List the audit log, newest first: every restore, decrypt, approval, hold, release, prune and key change, from any host.", interaction)
    {
        Options.Add(since);
        Options.Add(caller);
        Options.Add(action);
        Options.Add(database);
        Options.Add(json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
    {
        var from = Instant.Parse(parseResult.GetValue(since)!, DateTimeOffset.UtcNow);
        var filter = new AuditFilter(parseResult.GetValue(caller), parseResult.GetValue(action), parseResult.GetValue(database));
        var entries = new List<(AuditEntry Entry, bool Trusted)>();
        await foreach (var item in context.Get<AuditLog>().ReadAsync(from, filter, cancellationToken).ConfigureAwait(false))
        {
            entries.Add(item);
        }

        if (parseResult.GetValue(json))
        {
            Interaction.WriteJson(entries.Select(x => new CliJson.AuditLine(x.Entry.At, x.Entry.Host, x.Entry.Caller, x.Entry.Action, x.Entry.Target, x.Entry.Outcome, x.Entry.Detail, x.Entry.Count, x.Trusted)));
            return ExitCodes.Ok;
        }

        if (entries.Count == 0)
        {
            Interaction.WriteLine($"No audit entries since {from.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC match.");
            return ExitCodes.Ok;
        }

        var table = new Table().AddColumns("At (UTC)", "Host", "Caller", "Action", "Target", "Outcome");
        foreach (var (e, trusted) in entries)
        {
            table.AddRow(e.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), Markup.Escape(e.Host), Markup.Escape(e.Caller),
                Markup.Escape(e.Action) + (trusted ? string.Empty : " [red](unauthenticated)[/]"), Markup.Escape(e.Target ?? string.Empty), Markup.Escape(e.Outcome + (e.Detail is null ? string.Empty : $": {e.Detail}")));
        }

        Interaction.Console_.Write(table);
        if (entries.Any(x => !x.Trusted))
        {
            Interaction.WriteNote("Entries marked unauthenticated were not written by sbk with this master key (forged or edited), or were written before the key existed; do not rely on them.");
        }

        return ExitCodes.Ok;
    }
}
