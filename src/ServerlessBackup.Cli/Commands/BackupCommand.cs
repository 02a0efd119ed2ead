using System.CommandLine;

namespace ServerlessBackup.Cli.Commands;

/// <summary><c>sbk backup &lt;database&gt; [--label TEXT]</c></summary>
internal sealed class BackupCommand : SbkCommand
{
    private readonly Argument<string> database = new("database") { Description = "The catalog name of the database to back up." };
    private readonly Option<string?> label = new("--label") { Description = "A label kept with the backup (letters, digits, . _ -), e.g. pre-migration." };
    private readonly Option<bool> json = GlobalOptions.Json();

    public BackupCommand(Interaction interaction)
        : base("backup", "Back up a catalogued database: pg_dump, compressed, encrypted and streamed into the store.", interaction)
    {
        Arguments.Add(database);
        Options.Add(label);
        Options.Add(json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
    {
        var name = parseResult.GetValue(database)!;
        var manifest = await Interaction.WithProgressAsync($"backup {name}",
            progress => context.Get<Backups.BackupEngine>().BackupAsync(name, parseResult.GetValue(label), progress, cancellationToken)).ConfigureAwait(false);
        if (parseResult.GetValue(json))
        {
            Interaction.WriteJson(new CliJson.BackupDone(
                manifest.Database, manifest.BackupId, manifest.Label, manifest.StartedAt, manifest.CompletedAt, manifest.SnapshotTime,
                manifest.Archive.Length, manifest.Archive.DumpLength, manifest.Archive.Sha256, manifest.Warnings));
        }
        else
        {
            var seconds = (manifest.CompletedAt - manifest.StartedAt).TotalSeconds;
            Interaction.WriteLine($"Backup {manifest.BackupId} of '{manifest.Database}' is complete: {Interaction.Bytes(manifest.Archive.DumpLength)} dumped, {Interaction.Bytes(manifest.Archive.Length)} stored encrypted, in {seconds:0.0} s.");
            foreach (var warning in manifest.Warnings)
            {
                Interaction.WriteNote("warning: " + warning);
            }
        }

        return ExitCodes.Ok;
    }
}
