using System.Globalization;
using System.Net;
using System.Text;

namespace ServerlessBackup.Drills;

/// <summary>Markdown (for a chat message or a ticket) and a self-contained HTML page (for people and auditors) from a <see cref="DrillReport"/>.</summary>
public static class DrillReportRenderer
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The Markdown report.</summary>
    public static string Markdown(DrillReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        md.Append(Inv, $"# Restore drill {report.DrillId}: {report.Passed} of {report.Databases.Count} passed\n\n");
        md.Append(Inv, $"Started {Time(report.StartedAt)}, finished {Time(report.FinishedAt)} (deadline {Time(report.DeadlineAt)}); copies verified at level {report.Level.ToString().ToLowerInvariant()}.\n\n");
        md.Append("| Database | Outcome | Backup | RPO (objective) | RTO (objective) | Download | Decrypt | Restore | Verify | Rows verified |\n");
        md.Append("|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (var d in report.Databases)
        {
            var p = d.Phases;
            md.Append(Inv, $"| {d.Database} | {Outcome(d.Outcome)} | {d.BackupId ?? "-"} | {Hours(d.RpoHours)} ({d.RpoObjectiveHours:0.##} h) | {Rto(d.RtoSeconds)} ({d.RtoObjectiveHours:0.##} h) | {Sec(p?.Download)} | {Sec(p?.Decrypt)} | {Sec(p?.Restore)} | {Sec(p?.Verify)} | {d.RowsVerified} |\n");
        }

        foreach (var d in report.Databases.Where(d => d.Reasons.Count > 0))
        {
            md.Append(Inv, $"\n**{d.Database}**\n");
            foreach (var reason in d.Reasons)
            {
                md.Append("- ").Append(reason.Replace("\n", " ", StringComparison.Ordinal)).Append('\n');
            }
        }

        var leftovers = report.Databases.Where(d => d.ScratchDatabase is not null && !d.ScratchDropped).ToList();
        md.Append(leftovers.Count == 0 ? "\nEvery scratch database was dropped.\n" : $"\nScratch databases NOT dropped: {string.Join(", ", leftovers.Select(d => d.ScratchDatabase))}.\n");
        return md.ToString();
    }

    /// <summary>The HTML report: one self-contained page (inline CSS, no scripts, nothing fetched).</summary>
    public static string Html(DrillReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">");
        h.Append(Inv, $"<title>Restore drill {E(report.DrillId)}</title><style>");
        h.Append("body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1d2433;background:#fff}h1{font-size:1.5rem;margin:0 0 .25rem}");
        h.Append(".meta{color:#5a6478;margin-bottom:1.5rem}table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e3e7ef;vertical-align:top}");
        h.Append("th{background:#f5f7fb;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}.pass{color:#0a7a3d;font-weight:700}.fail{color:#b3261e;font-weight:700}.timeout{color:#a15c00;font-weight:700}");
        h.Append(".bar{display:flex;height:14px;min-width:240px;background:#eef1f6;border-radius:3px;overflow:hidden}.bar span{display:block;height:100%}");
        h.Append(".download{background:#7aa7e8}.decrypt{background:#b39ddb}.restore{background:#4caf8a}.verify{background:#f2b84b}.legend span{display:inline-block;width:10px;height:10px;margin:0 .3rem 0 .9rem}");
        h.Append("ul{margin:.25rem 0 .75rem 1.2rem;padding:0}.ok{color:#0a7a3d}.bad{color:#b3261e}h2{font-size:1.15rem;margin-top:2rem}footer{color:#8a93a6;margin-top:2rem;font-size:.85rem}</style></head><body>\n");
        h.Append(Inv, $"<h1>Restore drill: {report.Passed} of {report.Databases.Count} databases passed</h1>\n");
        h.Append(Inv, $"<div class=\"meta\">Drill {E(report.DrillId)} · started {E(Time(report.StartedAt))} · finished {E(Time(report.FinishedAt))} · deadline {E(Time(report.DeadlineAt))} · verified at level {E(report.Level.ToString().ToLowerInvariant())}</div>\n");
        h.Append("<table><thead><tr><th>Database</th><th>Outcome</th><th>Backup</th><th class=\"num\">RPO</th><th class=\"num\">RPO objective</th><th class=\"num\">RTO</th><th class=\"num\">RTO objective</th><th class=\"num\">Rows verified</th></tr></thead><tbody>\n");
        foreach (var d in report.Databases)
        {
            h.Append(Inv, $"<tr><td>{E(d.Database)}</td><td class=\"{Css(d.Outcome)}\">{Outcome(d.Outcome)}</td><td>{E(d.BackupId ?? "-")}</td><td class=\"num\">{Hours(d.RpoHours)}</td><td class=\"num\">{d.RpoObjectiveHours:0.##} h</td><td class=\"num\">{Rto(d.RtoSeconds)}</td><td class=\"num\">{d.RtoObjectiveHours:0.##} h</td><td class=\"num\">{d.RowsVerified:N0}</td></tr>\n");
        }

        h.Append("</tbody></table>\n<h2>Where the recovery time went</h2>\n<div class=\"legend\"><span class=\"download\"></span>download<span class=\"decrypt\"></span>decrypt<span class=\"restore\"></span>restore (pg_restore, overlapping the two before)<span class=\"verify\"></span>verify</div>\n<table><tbody>\n");
        var longest = Math.Max(0.001, report.Databases.Max(d => d.Phases is { } p ? p.Download + p.Decrypt + p.Restore + p.Verify : 0));
        foreach (var d in report.Databases)
        {
            h.Append(Inv, $"<tr><td>{E(d.Database)}</td><td style=\"width:70%\"><div class=\"bar\">");
            if (d.Phases is { } p)
            {
                foreach (var (css, seconds) in new[] { ("download", p.Download), ("decrypt", p.Decrypt), ("restore", p.Restore), ("verify", p.Verify) })
                {
                    h.Append(Inv, $"<span class=\"{css}\" style=\"width:{seconds / longest * 100:0.##}%\" title=\"{css} {seconds:0.0} s\"></span>");
                }
            }

            h.Append(Inv, $"</div></td><td class=\"num\">{(d.Phases is { } q ? $"{q.Download:0.0} / {q.Decrypt:0.0} / {q.Restore:0.0} / {q.Verify:0.0} s" : "-")}</td></tr>\n");
        }

        h.Append("</tbody></table>\n<h2>Checks</h2>\n");
        foreach (var d in report.Databases)
        {
            h.Append(Inv, $"<h3>{E(d.Database)} <span class=\"{Css(d.Outcome)}\">{Outcome(d.Outcome)}</span></h3><ul>");
            foreach (var reason in d.Reasons)
            {
                h.Append(Inv, $"<li class=\"bad\">{E(reason)}</li>");
            }

            foreach (var c in d.Checks)
            {
                h.Append(Inv, $"<li class=\"{(c.Passed ? "ok" : "bad")}\">{(c.Passed ? "✓" : "✗")} {E(c.Kind)}: {E(c.Name)}{(c.Expected is null ? string.Empty : $" — expected {E(c.Expected)}, found {E(c.Actual ?? "-")}")}</li>");
            }

            h.Append(Inv, $"<li>{(d.ScratchDatabase is null ? "No scratch database was created." : d.ScratchDropped ? $"Scratch database {E(d.ScratchDatabase)} dropped." : $"Scratch database {E(d.ScratchDatabase)} NOT dropped.")}</li></ul>\n");
        }

        if (report.Trend.Count > 0)
        {
            h.Append("<h2>Trend: recovery time in earlier drills</h2>\n<table><thead><tr><th>Drill</th><th>Started</th><th>Database</th><th>Outcome</th><th class=\"num\">RTO</th><th class=\"num\">RPO</th></tr></thead><tbody>\n");
            foreach (var t in report.Trend)
            {
                h.Append(Inv, $"<tr><td>{E(t.DrillId)}</td><td>{E(Time(t.StartedAt))}</td><td>{E(t.Database)}</td><td>{E(t.Outcome)}</td><td class=\"num\">{Rto(t.RtoSeconds)}</td><td class=\"num\">{Hours(t.RpoHours)}</td></tr>\n");
            }

            h.Append("</tbody></table>\n");
        }

        h.Append("<footer>ServerlessBackup restore drill report, schema version 1. RPO is the drill's start minus the restored backup's snapshot time; RTO is the measured restore plus verification.</footer>\n</body></html>\n");
        return h.ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", Inv);

    private static string Outcome(DrillOutcome outcome) => outcome switch { DrillOutcome.Passed => "PASSED", DrillOutcome.TimedOut => "TIMED OUT", _ => "FAILED" };

    private static string Css(DrillOutcome outcome) => outcome switch { DrillOutcome.Passed => "pass", DrillOutcome.TimedOut => "timeout", _ => "fail" };

    private static string Hours(double? hours) => hours switch
    {
        null => "-",
        < 1 and var h => (h * 60).ToString("0", Inv) + " min",
        var h => h.Value.ToString("0.##", Inv) + " h",
    };

    private static string Rto(double? seconds) => seconds is { } s ? (s < 120 ? s.ToString("0.0", Inv) + " s" : (s / 60).ToString("0.0", Inv) + " min") : "-";

    private static string Sec(double? seconds) => seconds is { } s ? s.ToString("0.0", Inv) + " s" : "-";
}
