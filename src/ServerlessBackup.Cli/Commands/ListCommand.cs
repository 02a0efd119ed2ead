using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace ServerlessBackup.Cli.Commands;

/// <summary><c>sbk list [&lt;database&gt;] [--json]</c></summary>
internal sealed class ListCommand : SbkCommand
{
    private readonly Argument<string?> database = new("database") { Description = "Only this database (default: every catalogued database).", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<bool> json = GlobalOptions.Json();

    public ListCommand(Interaction interaction)
        : base("list", "List complete backups, newest first.", interaction)
    {
        Arguments.Add(database);
        Options.Add(json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
    {
        var backups = await context.Get<Backups.BackupEngine>().ListAsync(parseResult.GetValue(database), cancellationToken).ConfigureAwait(false);
        if (parseResult.GetValue(json))
        {
            Interaction.WriteJson(backups);
            return ExitCodes.Ok;
        }

        if (backups.Count == 0)
        {
            Interaction.WriteLine($"No complete backups in {context.Get<Storage.IObjectStore>().Description}.");
            return ExitCodes.Ok;
        }

        var table = new Table().AddColumns("Database", "Backup id", "Snapshot (UTC)", "Label", "Dumped", "Stored", "Verified");
        foreach (var b in backups)
        {
            table.AddRow(Markup.Escape(b.Database), b.BackupId, b.SnapshotTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                Markup.Escape(b.Label ?? string.Empty), Interaction.Bytes(b.DumpLength), Interaction.Bytes(b.ArchiveLength), Verified(b));
        }

        Interaction.Console_.Write(table);
        return ExitCodes.Ok;
    }

    private static string Verified(Backups.BackupSummary b)
    {
        var text = b.Verified is { } v ? $"{v.Level.ToString().ToLowerInvariant()} {v.VerifiedAt.UtcDateTime.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture)}" : "-";
        return b.LastVerification is { Passed: false } last ? $"{text} (FAILED {last.Level.ToString().ToLowerInvariant()} {last.VerifiedAt.UtcDateTime.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture)})" : text;
    }
}
