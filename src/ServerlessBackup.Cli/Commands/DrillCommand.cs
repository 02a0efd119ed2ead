using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using ServerlessBackup.Drills;
using ServerlessBackup.Verify;
using Spectre.Console;

namespace ServerlessBackup.Cli.Commands;

/// <summary>
/// <c>sbk drill [--database D ...] [--max-parallel N] [--deadline 4h] [--level L] [--json]</c>, and
/// <c>sbk drill list</c>, <c>sbk drill show &lt;id&gt; [--format json|md|html]</c>.
/// </summary>
internal sealed partial class DrillCommand : SbkCommand
{
    private readonly Option<string[]> databases = new("--database", "-d") { Description = "Drill only this database; repeatable (default: every catalogued database)." };
    private readonly Option<int> maxParallel = new("--max-parallel") { Description = "Databases restored at once.", DefaultValueFactory = _ => 2 };
    private readonly Option<string> deadline = new("--deadline") { Description = "After this (e.g. 4h, 90m, 1h30m), unfinished databases are reported as timed out; scratch databases are dropped regardless.", DefaultValueFactory = _ => "4h" };
    private readonly Option<VerificationLevel> level = GlobalOptions.Level("How far each copy is verified (census or assertions).", VerificationLevel.Census);
    private readonly Option<bool> json = GlobalOptions.Json();

    public DrillCommand(Interaction interaction)
        : base("drill", "Run a restore drill: restore each database's latest backup into scratch, verify it, measure RTO and RPO against the objectives, report, notify, clean up.", interaction)
    {
        Options.Add(databases);
        Options.Add(maxParallel);
        Options.Add(deadline);
        Options.Add(level);
        Options.Add(json);
        deadline.Validators.Add(result =>
        {
            if (ParseDuration(result.GetValueOrDefault<string>()) is null)
            {
                result.AddError("--deadline takes a duration such as 4h, 90m, 45s or 1h30m.");
            }
        });
        Subcommands.Add(new ListDrills(interaction));
        Subcommands.Add(new ShowDrill(interaction));
    }

    [GeneratedRegex(@"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?\z")]
    private static partial Regex DurationPattern();

    internal static TimeSpan? ParseDuration(string? text)
    {
        var m = text is { Length: > 0 } ? DurationPattern().Match(text) : Match.Empty;
        if (!m.Success)
        {
            return null;
        }

        // Each part as a number of any length (99999999999h is no duration, not a crash).
        double Part(int i) => m.Groups[i].Success && double.TryParse(m.Groups[i].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        var seconds = (Part(1) * 3600) + (Part(2) * 60) + Part(3);
        return seconds > 0 && seconds <= TimeSpan.MaxValue.TotalSeconds / 2 ? TimeSpan.FromSeconds(seconds) : null;
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
    {
        var input = context.Get<Drills.DrillEngine>().CreateInput(parseResult.GetValue(databases), parseResult.GetValue(maxParallel), ParseDuration(parseResult.GetValue(deadline)), parseResult.GetValue(level));
        Interaction.WriteNote($"Drill {input.DrillId}: {input.Databases.Count} database(s), {input.MaxParallel} at once, deadline {TimeSpan.FromSeconds(input.DeadlineSeconds):g}.");
        var (report, _) = await Interaction.WithLiveLinesAsync(show => context.Get<Drills.DrillEngine>().RunAsync(input, status =>
        {
            if (status is IReadOnlyDictionary<string, DrillProgress> phases)
            {
                show(phases.ToDictionary(p => p.Key, p => (p.Value.Phase, p.Value.Since)));
            }
        }, cancellationToken)).ConfigureAwait(false);

        if (parseResult.GetValue(json))
        {
            Interaction.WriteJson(report);
        }
        else
        {
            Interaction.WriteLine(DrillReportRenderer.Markdown(report));
            Interaction.WriteLine($"Report stored, sealed: {DrillEngine.Prefix}{report.DrillId}/report.json (sbk drill show {report.DrillId} --format html > drill.html).");
        }

        return report.AllPassed ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private sealed class ListDrills : SbkCommand
    {
        private readonly Option<bool> json = GlobalOptions.Json();

        public ListDrills(Interaction interaction)
            : base("list", "List stored drills, newest first.", interaction) => Options.Add(json);

        protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
        {
            var drills = await context.Get<Drills.DrillEngine>().ListAsync(cancellationToken).ConfigureAwait(false);
            if (parseResult.GetValue(json))
            {
                Interaction.WriteJson(drills.Select(d => new CliJson.DrillLine(d.DrillId, d.StartedAt, d.Passed, d.Databases)));
                return ExitCodes.Ok;
            }

            if (drills.Count == 0)
            {
                Interaction.WriteLine("No drills yet. Run one with: sbk drill");
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumn(new TableColumn("Drill").NoWrap()).AddColumns("Started (UTC)", "Passed");
            foreach (var d in drills)
            {
                table.AddRow(d.DrillId, d.StartedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), $"{d.Passed} of {d.Databases}");
            }

            Interaction.Console_.Write(table);
            return ExitCodes.Ok;
        }
    }

    private sealed class ShowDrill : SbkCommand
    {
        private readonly Argument<string> id = new("drill-id") { Description = "The drill's id (sbk drill list)." };
        private readonly Option<string> format = new("--format") { Description = "md (default), json or html.", DefaultValueFactory = _ => "md" };

        public ShowDrill(Interaction interaction)
            : base("show", "Print a stored drill report.", interaction)
        {
            Arguments.Add(id);
            Options.Add(format);
            format.AcceptOnlyFromAmong("md", "json", "html");
        }

        protected override async Task<int> ExecuteAsync(ParseResult parseResult, CliContext context, CancellationToken cancellationToken)
        {
            Interaction.WriteLine(await context.Get<Drills.DrillEngine>().ReadAsync(parseResult.GetValue(id)!, parseResult.GetValue(format)!, cancellationToken).ConfigureAwait(false));
            return ExitCodes.Ok;
        }
    }
}
