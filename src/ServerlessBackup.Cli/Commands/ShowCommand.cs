using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace ServerlessBackup.Cli.Commands;

/// <summary><c>sbk show &lt;database&gt; &lt;backup-id|latest&gt; [--json]</c></summary>
internal sealed class ShowCommand : SbkCommand
{
    private readonly Argument<string> database = new("database") { Description = "The catalog name of the database." };
    private readonly Argument<string> backup = new("backup") { Description = "A backup id, or 'latest'." };
    private readonly Option<bool> json = GlobalOptions.Json();

    public ShowCommand(Interaction interaction)
        : base("show", "Show a backup's authenticated manifest: times, sizes, versions and the row census.", interaction)
    {
        Arguments.Add(database);
        Arguments.Add(backup);
        Options.Add(json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
    {
        var details = await context.Get<Backups.BackupEngine>().ShowAsync(parseResult.GetValue(database)!, parseResult.GetValue(backup)!, cancellationToken).ConfigureAwait(false);
        var m = details.Manifest;
        if (parseResult.GetValue(json))
        {
            Interaction.WriteJson(new CliJson.BackupShown(
                m.Database, m.BackupId, m.Label, m.StartedAt, m.CompletedAt, m.SnapshotTime, m.SnapshotShared, m.Archive, m.Source,
                new CliJson.MasterKey(m.Key.KekName, m.Key.KekVersion), m.Warnings, details.Private.Census, details.Private.DumpMessages));
            return ExitCodes.Ok;
        }

        Interaction.WriteLine($"Backup {m.BackupId} of '{m.Database}' (manifest authenticated)");
        Interaction.WriteLine($"  label:        {m.Label ?? "-"}");
        Interaction.WriteLine($"  snapshot:     {m.SnapshotTime.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}{(m.SnapshotShared ? string.Empty : " (not shared with the census)")}");
        Interaction.WriteLine($"  took:         {(m.CompletedAt - m.StartedAt).TotalSeconds:0.0} s");
        Interaction.WriteLine($"  dumped:       {Interaction.Bytes(m.Archive.DumpLength)} by pg_dump {m.Source.PgDumpVersion} from PostgreSQL {m.Source.ServerVersion}");
        Interaction.WriteLine($"  stored:       {Interaction.Bytes(m.Archive.Length)} ({m.Archive.Encoding}, sha256 {m.Archive.Sha256})");
        Interaction.WriteLine($"  master key:   {m.Key.KekName} version {m.Key.KekVersion}");
        Interaction.WriteLine($"  census:       {details.Private.Census.Mode}, {details.Private.Census.Tables.Count} tables, {details.Private.Census.TotalRows} rows, {details.Private.Census.Sequences.Count} sequences");
        if (details.Private.Census.Tables.Count > 0)
        {
            var table = new Table().AddColumns("Table", "Rows");
            foreach (var t in details.Private.Census.Tables)
            {
                table.AddRow(Markup.Escape($"{t.Schema}.{t.Name}"), (t.Estimated ? "~" : string.Empty) + t.Rows.ToString(CultureInfo.InvariantCulture));
            }

            Interaction.Console_.Write(table);
        }

        foreach (var warning in m.Warnings)
        {
            Interaction.WriteNote("warning: " + warning);
        }

        return ExitCodes.Ok;
    }
}
