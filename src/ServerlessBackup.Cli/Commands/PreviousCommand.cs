using System.CommandLine;
using System.Globalization;
using ServerlessBackup.Restore;
using Spectre.Console;

namespace ServerlessBackup.Cli.Commands;

/// <summary>
/// <c>sbk previous list [database] | swap-back &lt;database&gt; [name] | drop &lt;database&gt; &lt;name&gt; | sweep [--dry-run]</c>:
/// the databases that restores into catalogued databases replaced, kept on their own servers.
/// </summary>
internal sealed class PreviousCommand : Command
{
    public PreviousCommand(Interaction interaction)
        : base("previous", "The databases that restores into catalogued databases replaced, kept beside them for a while: list them, swap one back (undo a restore), drop one, or sweep the expired ones.")
    {
        Subcommands.Add(new ListPrevious(interaction));
        Subcommands.Add(new SwapBack(interaction));
        Subcommands.Add(new DropPrevious(interaction));
        Subcommands.Add(new SweepPrevious(interaction));
    }

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static void WriteProblems(Interaction interaction, IReadOnlyList<string> problems)
    {
        foreach (var problem in problems)
        {
            interaction.WriteNote("warning: " + problem);
        }
    }

    private sealed class ListPrevious : SbkCommand
    {
        private readonly Argument<string?> database = new("database") { Description = "Only this catalogued database's (default: all).", Arity = ArgumentArity.ZeroOrOne };
        private readonly Option<bool> json = GlobalOptions.Json();

        public ListPrevious(Interaction interaction)
            : base("list", "List the replaced databases kept beside catalogued databases, newest first.", interaction)
        {
            Arguments.Add(database);
            Options.Add(json);
        }

        protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
        {
            var (previous, problems) = await context.Get<RestoreEngine>().ListPreviousAsync(parseResult.GetValue(database), cancellationToken).ConfigureAwait(false);
            WriteProblems(Interaction, problems);
            if (parseResult.GetValue(json))
            {
                Interaction.WriteJson(previous);
                return ExitCodes.Ok;
            }

            if (previous.Count == 0)
            {
                Interaction.WriteLine("No replaced database is kept.");
                return ExitCodes.Ok;
            }

            var now = DateTimeOffset.UtcNow;
            var table = new Table().AddColumn(new TableColumn("Name").NoWrap()).AddColumns("Was", "Replaced (UTC)", "By backup", "Expires (UTC)", "Size");
            foreach (var p in previous)
            {
                table.AddRow(Markup.Escape(p.Name), Markup.Escape(p.Catalog), Format(p.SwappedAt), Markup.Escape(p.BackupId),
                    Format(p.ExpiresAt) + (p.IsExpiredAt(now) ? " (expired)" : string.Empty), Interaction.Bytes(p.SizeBytes));
            }

            Interaction.Console_.Write(table);
            return ExitCodes.Ok;
        }
    }

    private sealed class SwapBack : SbkCommand
    {
        private readonly Argument<string> database = new("database") { Description = "The catalogued database whose last restore to undo." };
        private readonly Argument<string?> name = new("name") { Description = "Which kept database to swap back (default: the newest).", Arity = ArgumentArity.ZeroOrOne };
        private readonly Option<bool> json = GlobalOptions.Json();

        public SwapBack(Interaction interaction)
            : base("swap-back", "Undo a restore into a catalogued database: swap the database it replaced back in (sessions to it are ended). The one swapped out is kept in turn.", interaction)
        {
            Arguments.Add(database);
            Arguments.Add(name);
            Options.Add(json);
        }

        protected override (string Action, string? Target)? Audited(ParseResult parseResult) => ("previous swap-back", $"{parseResult.GetValue(database)} {parseResult.GetValue(name)}".TrimEnd());

        protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
        {
            var target = parseResult.GetValue(database)!;
            var (restored, aside) = await context.Get<RestoreEngine>().SwapBackAsync(target, parseResult.GetValue(name), cancellationToken).ConfigureAwait(false);
            if (parseResult.GetValue(json))
            {
                Interaction.WriteJson(new CliJson.SwapBack(restored, aside));
            }
            else
            {
                Interaction.WriteLine($"'{target}' is again the database that restore {restored.RestoreId} replaced at {Format(restored.SwappedAt)} UTC.");
                Interaction.WriteLine($"The database it replaced now is kept as '{aside.Name}' until {Format(aside.ExpiresAt)} UTC ('sbk previous swap-back {target} {aside.Name}' swaps it in again).");
            }

            return ExitCodes.Ok;
        }
    }

    private sealed class DropPrevious : SbkCommand
    {
        private readonly Argument<string> database = new("database") { Description = "The catalogued database it was." };
        private readonly Argument<string> name = new("name") { Description = "The kept database's name (sbk_prev_…)." };
        private readonly Option<bool> json = GlobalOptions.Json();

        public DropPrevious(Interaction interaction)
            : base("drop", "Drop one kept replaced database now. Only databases sbk kept are dropped.", interaction)
        {
            Arguments.Add(database);
            Arguments.Add(name);
            Options.Add(json);
        }

        protected override (string Action, string? Target)? Audited(ParseResult parseResult) => ("previous drop", $"{parseResult.GetValue(database)} {parseResult.GetValue(name)}");

        protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
        {
            var dropped = await context.Get<RestoreEngine>().DropPreviousAsync(parseResult.GetValue(database)!, parseResult.GetValue(name)!, cancellationToken).ConfigureAwait(false);
            if (parseResult.GetValue(json))
            {
                Interaction.WriteJson(dropped);
            }
            else
            {
                Interaction.WriteLine($"Dropped '{dropped.Name}' (the '{dropped.Catalog}' that restore {dropped.RestoreId} replaced).");
            }

            return ExitCodes.Ok;
        }
    }

    private sealed class SweepPrevious : SbkCommand
    {
        private readonly Option<bool> dryRun = new("--dry-run") { Description = "Only say which would be dropped." };
        private readonly Option<bool> json = GlobalOptions.Json();

        public SweepPrevious(Interaction interaction)
            : base("sweep", "Drop the expired replaced databases, and the copies left beside a database by restores that were killed.", interaction)
        {
            Options.Add(dryRun);
            Options.Add(json);
        }

        protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
        {
            var dry = parseResult.GetValue(dryRun);
            var (dropped, problems) = await context.Get<RestoreEngine>().SweepPreviousAsync(dry, cancellationToken).ConfigureAwait(false);
            WriteProblems(Interaction, problems);
            if (parseResult.GetValue(json))
            {
                Interaction.WriteJson(new CliJson.PreviousSweep(dry, dropped, problems));
            }
            else if (dropped.Count == 0)
            {
                Interaction.WriteLine("Nothing to sweep.");
            }
            else
            {
                Interaction.WriteLine((dry ? "Would drop: " : "Dropped: ") + string.Join(", ", dropped));
            }

            return problems.Count > 0 ? ExitCodes.Failed : ExitCodes.Ok;
        }
    }
}
