using System.CommandLine;
using System.Globalization;
using ServerlessBackup.Verify;
using Spectre.Console;

namespace ServerlessBackup.Cli.Commands;

/// <summary><c>sbk verify &lt;database&gt; [&lt;backup-id&gt;|latest] [--level archive|restore|census|assertions] [--jobs N] [--keep] [--json]</c></summary>
internal sealed class VerifyCommand : SbkCommand
{
    private readonly Argument<string> database = new("database") { Description = "The catalog name of the database." };
    private readonly Argument<string> backup = GlobalOptions.Backup();
    private readonly Option<VerificationLevel> level = GlobalOptions.Level(
        "archive: authenticate and list it, no database. restore: restore into scratch. census: row counts equal the manifest's. assertions (default): the catalog's SQL checks too.",
        VerificationLevel.Archive, "-l");

    private readonly Option<int?> jobs = GlobalOptions.Jobs("Parallel pg_restore jobs (the archive is first written to a private temporary file).");
    private readonly Option<bool> keep = new("--keep") { Description = "Keep the scratch database afterwards (it still expires)." };
    private readonly Option<string[]> tolerate = GlobalOptions.Tolerate();
    private readonly Option<bool> json = GlobalOptions.Json();

    public VerifyCommand(Interaction interaction)
        : base("verify", "Prove a backup: authenticate it, restore it into a scratch database, compare row counts with its census, run the catalog's assertions.", interaction)
    {
        Arguments.Add(database);
        Arguments.Add(backup);
        Options.Add(level);
        Options.Add(jobs);
        Options.Add(keep);
        Options.Add(tolerate);
        Options.Add(json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
    {
        var request = new VerificationRequest
        {
            Database = parseResult.GetValue(database)!,
            Backup = parseResult.GetValue(backup)!,
            Level = parseResult.GetValue(level),
            Jobs = parseResult.GetValue(jobs),
            Keep = parseResult.GetValue(keep),
            Tolerate = parseResult.GetValue(tolerate) ?? [],
        };
        var report = await Interaction.WithProgressAsync($"verify {request.Database}",
            progress => context.Get<Restore.RestoreEngine>().VerifyAsync(request, progress, cancellationToken)).ConfigureAwait(false);
        if (parseResult.GetValue(json))
        {
            Interaction.WriteJson(report);
        }
        else
        {
            Write(report);
        }

        return report.Passed ? ExitCodes.Ok : report.IntegrityFailure ? ExitCodes.Integrity : ExitCodes.Failed;
    }

    private void Write(VerificationReport r)
    {
        var t = r.Timings;
        Interaction.WriteLine($"Backup {r.BackupId} of '{r.Database}', verified at level {r.Level.ToString().ToLowerInvariant()}: {(r.Passed ? "PASSED" : "FAILED")}");
        Interaction.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  time: {t.Total:0.0} s (download {t.Download:0.0} s, decrypt {t.Decrypt:0.0} s, restore {t.Restore:0.0} s, checks {t.Checks:0.0} s); {Interaction.Bytes(r.ArchiveBytes)} archive; {r.RowsVerified} rows verified"));
        if (r.Kept && r.ScratchDatabase is not null)
        {
            Interaction.WriteLine($"  scratch database kept: {r.ScratchDatabase}");
        }

        var table = new Table().AddColumns("", "Check", "Expected", "Actual", "Detail");
        foreach (var c in r.Checks)
        {
            table.AddRow(c.Passed ? "ok" : "FAIL", Markup.Escape($"{c.Kind}: {c.Name}"), Markup.Escape(c.Expected ?? string.Empty), Markup.Escape(c.Actual ?? string.Empty), Markup.Escape(c.Detail ?? string.Empty));
        }

        Interaction.Console_.Write(table);
        if (r.Error is not null)
        {
            Interaction.WriteError(r.Error);
        }
    }
}
