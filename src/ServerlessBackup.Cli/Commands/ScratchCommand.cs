using System.CommandLine;
using System.Globalization;
using ServerlessBackup.Restore;
using Spectre.Console;

namespace ServerlessBackup.Cli.Commands;

/// <summary><c>sbk scratch list|drop &lt;name&gt;|sweep [--dry-run]</c>: the janitor of scratch databases.</summary>
internal sealed class ScratchCommand : Command
{
    public ScratchCommand(Interaction interaction)
        : base("scratch", "Look after scratch databases: list them, drop one, or sweep the expired ones.")
    {
        Subcommands.Add(new ListScratch(interaction));
        Subcommands.Add(new DropScratch(interaction));
        Subcommands.Add(new SweepScratch(interaction));
    }

    private static void WriteTable(Interaction interaction, IReadOnlyList<ScratchDatabase> databases)
    {
        var now = DateTimeOffset.UtcNow;
        var table = new Table().AddColumn(new TableColumn("Name").NoWrap()).AddColumns("Copy of", "Backup id", "Created (UTC)", "Expires (UTC)", "Size");
        foreach (var s in databases)
        {
            table.AddRow(Markup.Escape(s.Name) + (s.Complete ? string.Empty : " (restore running, or killed: incomplete)"), Markup.Escape(s.SourceDatabase), Markup.Escape(s.BackupId), Format(s.CreatedAt),
                Format(s.ExpiresAt) + (s.IsExpiredAt(now) ? " (expired)" : string.Empty), Interaction.Bytes(s.SizeBytes));
        }

        interaction.Console_.Write(table);
    }

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private sealed class ListScratch : SbkCommand
    {
        private readonly Option<bool> json = GlobalOptions.Json();

        public ListScratch(Interaction interaction)
            : base("list", "List the scratch databases sbk made, with their expiry.", interaction) => Options.Add(json);

        protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
        {
            var all = await context.Get<Restore.RestoreEngine>().ListScratchAsync(cancellationToken).ConfigureAwait(false);
            if (parseResult.GetValue(json))
            {
                Interaction.WriteJson(all);
            }
            else if (all.Count == 0)
            {
                Interaction.WriteLine("There are no scratch databases.");
            }
            else
            {
                WriteTable(Interaction, all);
            }

            return ExitCodes.Ok;
        }
    }

    private sealed class DropScratch : SbkCommand
    {
        private readonly Argument<string> name = new("name") { Description = "The scratch database's name (sbk_scratch_…)." };
        private readonly Option<bool> json = GlobalOptions.Json();

        public DropScratch(Interaction interaction)
            : base("drop", "Drop one scratch database now, expired or not. Only databases sbk made as scratch are dropped.", interaction)
        {
            Arguments.Add(name);
            Options.Add(json);
        }

        protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
        {
            var dropped = await context.Get<Restore.RestoreEngine>().DropScratchAsync(parseResult.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            if (parseResult.GetValue(json))
            {
                Interaction.WriteJson(dropped);
            }
            else
            {
                Interaction.WriteLine($"Dropped scratch database {dropped.Name} (a copy of '{dropped.SourceDatabase}', backup {dropped.BackupId}).");
            }

            return ExitCodes.Ok;
        }
    }

    private sealed class SweepScratch : SbkCommand
    {
        private readonly Option<bool> dryRun = new("--dry-run") { Description = "Only say which would be dropped." };
        private readonly Option<bool> json = GlobalOptions.Json();

        public SweepScratch(Interaction interaction)
            : base("sweep", "Drop every expired scratch database, and nothing else.", interaction)
        {
            Options.Add(dryRun);
            Options.Add(json);
        }

        protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
        {
            var dry = parseResult.GetValue(dryRun);
            var swept = await context.Get<Restore.RestoreEngine>().SweepScratchAsync(dry, cancellationToken).ConfigureAwait(false);
            if (parseResult.GetValue(json))
            {
                Interaction.WriteJson(new CliJson.ScratchSweep(dry, swept));
            }
            else if (swept.Count == 0)
            {
                Interaction.WriteLine("No scratch database has expired.");
            }
            else
            {
                Interaction.WriteLine(dry ? $"{swept.Count} expired scratch database(s) would be dropped:" : $"Dropped {swept.Count} expired scratch database(s):");
                WriteTable(Interaction, swept);
            }

            return ExitCodes.Ok;
        }
    }
}
