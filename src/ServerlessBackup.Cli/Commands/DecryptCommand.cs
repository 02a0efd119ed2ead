using System.CommandLine;

namespace ServerlessBackup.Cli.Commands;

/// <summary><c>sbk decrypt &lt;database&gt; &lt;backup-id|latest&gt; --out FILE</c>, or <c>sbk decrypt --archive FILE --out FILE</c> (emergency).</summary>
internal sealed class DecryptCommand : SbkCommand
{
    private readonly Argument<string?> database = new("database") { Description = "The catalog name of the database.", Arity = ArgumentArity.ZeroOrOne };
    private readonly Argument<string?> backup = new("backup") { Description = "A backup id, or 'latest'.", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<string> output = new("--out", "-o") { Description = "Where to write the pg_restore-ready archive.", Required = true };
    private readonly Option<string?> archive = new("--archive") { Description = "Emergency: decrypt this archive file (downloaded from the store) with only the master key; no store or manifest needed." };
    private readonly Option<bool> json = GlobalOptions.Json();

    public DecryptCommand(Interaction interaction)
        : base("decrypt", "Decrypt a backup into a pg_dump custom-format archive that pg_restore reads.", interaction)
    {
        Arguments.Add(database);
        Arguments.Add(backup);
        Options.Add(output);
        Options.Add(archive);
        Options.Add(json);
        Validators.Add(result =>
        {
            var hasArchive = result.GetValue(archive) is not null;
            var hasBackup = result.GetValue(database) is not null && result.GetValue(backup) is not null;
            if (hasArchive == hasBackup)
            {
                result.AddError("Give either <database> <backup-id|latest>, or --archive FILE (not both).");
            }
        });
    }

    protected override (string Action, string? Target)? Audited(ParseResult parseResult) =>
        ("decrypt", parseResult.GetValue(archive) is { } file ? $"archive file {file}" : $"{parseResult.GetValue(database)} {parseResult.GetValue(backup)}");

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
    {
        var outPath = parseResult.GetValue(output)!;
        var archivePath = parseResult.GetValue(archive);
        var result = await Interaction.WithProgressAsync("decrypt", progress => archivePath is not null
            ? context.Get<Backups.BackupEngine>().DecryptArchiveFileAsync(archivePath, outPath, progress, cancellationToken)
            : context.Get<Backups.BackupEngine>().DecryptAsync(parseResult.GetValue(database)!, parseResult.GetValue(backup)!, outPath, progress, cancellationToken)).ConfigureAwait(false);
        if (parseResult.GetValue(json))
        {
            Interaction.WriteJson(result);
        }
        else
        {
            Interaction.WriteLine($"Backup {result.BackupId} decrypted and authenticated: {Interaction.Bytes(result.Bytes)} written to {result.OutputPath}.");
            Interaction.WriteLine($"Restore it with: pg_restore --no-owner --no-privileges -d <target database> {result.OutputPath}");
        }

        return ExitCodes.Ok;
    }
}
