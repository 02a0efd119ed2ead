using System.CommandLine;
using System.Globalization;
using ServerlessBackup.Restore;

namespace ServerlessBackup.Cli.Commands;

/// <summary>
/// <c>sbk restore &lt;database&gt; [&lt;backup-id&gt;|latest] [--to-scratch | --target NAME --confirm NAME]
/// [--table T ...] [--data-only] [--jobs N] [--keep] [--tolerate TEXT ...] [--json]</c>
/// </summary>
internal sealed class RestoreCommand : SbkCommand
{
    private readonly Argument<string> database = new("database") { Description = "The catalog name of the database whose backup is restored." };
    private readonly Argument<string> backup = GlobalOptions.Backup();
    private readonly Option<bool> toScratch = new("--to-scratch") { Description = "Restore into a new scratch database (the default)." };
    private readonly Option<string?> target = new("--target") { Description = "Restore into this database instead: an existing scratch copy (sbk_scratch_…) of the same database, or a catalogued database (needs --confirm; it is backed up first)." };
    private readonly Option<string?> confirm = new("--confirm") { Description = "Repeat the --target name to confirm overwriting a real database." };
    private readonly Option<string[]> tables = new("--table", "-t") { Description = "Restore only this table (schema.table, or table); repeatable.", AllowMultipleArgumentsPerToken = false };
    private readonly Option<bool> dataOnly = new("--data-only") { Description = "Restore data only, into an existing schema (needs --target)." };
    private readonly Option<int?> jobs = GlobalOptions.Jobs("Parallel pg_restore jobs; above 1 the decrypted archive is first written to a private temporary file (removed afterwards).");
    private readonly Option<string?> before = new("--before") { Description = "Restore the newest backup taken before this time instead of naming one: 2026-11-30T14:05Z, 2026-11-30 15:05+01:00, or a span ago (90m, 2h, 1d)." };
    private readonly Option<bool> inPlace = new("--in-place") { Description = "For a catalogued target whose server does not allow a restore beside it and a swap (no CREATEDB, not its owner): restore into it in one transaction instead (a failure changes nothing)." };
    private readonly Option<bool> keep = new("--keep") { Description = "Keep a new scratch database even if the restore fails, to look at it (it still expires)." };
    private readonly Option<string[]> tolerate = GlobalOptions.Tolerate();
    private readonly Option<bool> json = GlobalOptions.Json();

    public RestoreCommand(Interaction interaction)
        : base("restore", "Restore a backup into a new scratch database (default), or deliberately into a catalogued database.", interaction)
    {
        Arguments.Add(database);
        Arguments.Add(backup);
        Options.Add(toScratch);
        Options.Add(target);
        Options.Add(confirm);
        Options.Add(tables);
        Options.Add(dataOnly);
        Options.Add(jobs);
        Options.Add(before);
        Options.Add(inPlace);
        Options.Add(keep);
        Options.Add(tolerate);
        Options.Add(json);
        Validators.Add(result =>
        {
            if (result.GetValue(toScratch) && result.GetValue(target) is not null)
            {
                result.AddError("Give either --to-scratch or --target NAME, not both.");
            }

            if (result.GetValue(before) is not null && result.GetResult(backup) is { Implicit: false })
            {
                result.AddError("Give either a backup id or --before TIME, not both.");
            }
        });
    }

    protected override (string Action, string? Target)? Audited(ParseResult parseResult) =>
        ("restore", $"{parseResult.GetValue(database)} {(parseResult.GetValue(before) is { } at ? "before " + at : parseResult.GetValue(backup))}{(parseResult.GetValue(target) is { } into ? " into " + into : " into a new scratch database")}");

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
    {
        var request = new RestoreRequest
        {
            Database = parseResult.GetValue(database)!,
            Backup = parseResult.GetValue(backup)!,
            Before = parseResult.GetValue(before) is { } time ? Instant.Parse(time, DateTimeOffset.UtcNow) : null,
            InPlace = parseResult.GetValue(inPlace),
            Target = parseResult.GetValue(target),
            Confirm = parseResult.GetValue(confirm),
            Tables = parseResult.GetValue(tables) ?? [],
            DataOnly = parseResult.GetValue(dataOnly),
            Jobs = parseResult.GetValue(jobs),
            Keep = parseResult.GetValue(keep),
            Tolerate = parseResult.GetValue(tolerate) ?? [],
        };
        var result = await Interaction.WithProgressAsync($"restore {request.Database}",
            progress => context.Get<Restore.RestoreEngine>().RestoreAsync(request, progress, cancellationToken)).ConfigureAwait(false);
        if (parseResult.GetValue(json))
        {
            Interaction.WriteJson(result);
            return ExitCodes.Ok;
        }

        var what = result.Tables.Count > 0 ? $"{(result.DataOnly ? "data of " : string.Empty)}{string.Join(", ", result.Tables)}" : result.DataOnly ? "all data" : "everything";
        Interaction.WriteLine($"Restored {what} from backup {result.BackupId} of '{result.Database}' into {(result.TargetIsScratch ? "scratch database" : "database")} '{result.Target}' in {result.Timings.Total.ToString("0.0", CultureInfo.InvariantCulture)} s ({Interaction.Bytes(result.Bytes)} archive).");
        if (result.Previous is { } previous)
        {
            Interaction.WriteLine($"The database it replaced is kept as '{previous.Name}' until {previous.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC: 'sbk previous swap-back {result.Target}' undoes this restore in seconds.");
        }

        if (result.EmergencyBackupId is not null)
        {
            Interaction.WriteLine($"Its previous state is also in emergency backup {result.EmergencyBackupId}.");
        }

        foreach (var note in result.Notes ?? [])
        {
            Interaction.WriteNote($"note: {note}");
        }

        if (result.ExpiresAt is { } expires)
        {
            Interaction.WriteLine($"It expires {expires.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC ('sbk scratch sweep' drops it then; 'sbk scratch drop {result.Target}' sooner).");
        }

        if (result.ToleratedErrors > 0)
        {
            Interaction.WriteNote($"note: {result.ToleratedErrors} pg_restore error(s) were tolerated: {string.Join(" | ", result.FirstToleratedErrors)}");
        }

        return ExitCodes.Ok;
    }
}
