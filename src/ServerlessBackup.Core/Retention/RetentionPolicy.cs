using System.Globalization;
using ServerlessBackup.Catalog;

namespace ServerlessBackup.Retention;

/// <summary>
/// Decides, for every complete backup of one database, keep or delete, and why. A pure function
/// of the backups, the rules and the time, so it can be tested over generated histories. The
/// rules, in order: held; the newest complete backup; the newest verified backup; younger than
/// the minimum age; younger than KeepDays (every backup of the last N days); a label's rule (kept for N days, or until released; once its rule lets it go
/// it is deleted); then grandfather-father-son counts over the unlabelled (and rule-less labelled)
/// backups: the newest backup of each of the N most recent hours, days, ISO weeks, months and
/// years that have one. Everything else is deleted.
/// </summary>
public static class RetentionPolicy
{
    /// <summary>Decisions, newest first.</summary>
    public static IReadOnlyList<RetentionDecision> Evaluate(IReadOnlyList<RetentionCandidate> backups, RetentionOptions rules, DateTimeOffset now, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(backups);
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(zone);
        var ordered = backups.OrderByDescending(b => b.At).ThenByDescending(b => b.BackupId, StringComparer.Ordinal).ToList();
        var decided = new Dictionary<string, string>(StringComparer.Ordinal);
        var deleted = new HashSet<string>(StringComparer.Ordinal);

        void Keep(RetentionCandidate b, string rule) => decided.TryAdd(b.BackupId, rule);

        if (ordered.Count > 0)
        {
            Keep(ordered[0], "the newest complete backup");
        }

        if (ordered.FirstOrDefault(b => b.Verified) is { } verified)
        {
            Keep(verified, "the newest verified backup");
        }

        var gfs = new List<RetentionCandidate>();
        foreach (var b in ordered)
        {
            if (b.Held)
            {
                Keep(b, "held (sbk release removes the hold)");
                continue;
            }

            var ageHours = (now - b.At).TotalHours;
            if (ageHours < rules.MinAgeHours)
            {
                Keep(b, $"younger than the minimum age of {rules.MinAgeHours.ToString(CultureInfo.InvariantCulture)} h");
                continue;
            }

            var labelled = b.Label is { } l && rules.Labels.ContainsKey(l);
            if (rules.KeepDays > 0 && ageHours < rules.KeepDays * 24)
            {
                Keep(b, $"every backup of the last {rules.KeepDays.ToString(CultureInfo.InvariantCulture)} days (KeepDays)");
                if (!labelled)
                {
                    gfs.Add(b); // it still stands for its hour, day, week, month and year
                }

                continue;
            }

            if (b.Label is { } label && rules.Labels.TryGetValue(label, out var rule))
            {
                if (rule.KeepUntilReleased && !b.Released)
                {
                    Keep(b, $"label '{label}': kept until released (sbk release)");
                }
                else if (rule.KeepDays is { } days && ageHours < days * 24)
                {
                    Keep(b, $"label '{label}': kept {days.ToString(CultureInfo.InvariantCulture)} days ({Math.Ceiling(days - (ageHours / 24)).ToString(CultureInfo.InvariantCulture)} left)");
                }
                else if (!decided.ContainsKey(b.BackupId))
                {
                    deleted.Add(b.BackupId);
                }

                continue;
            }

            gfs.Add(b);
        }

        Bucket(gfs, rules.Hourly, "hourly", b => Local(b, zone).ToString("yyyy-MM-dd HH':00'", CultureInfo.InvariantCulture), Keep);
        Bucket(gfs, rules.Daily, "daily", b => Local(b, zone).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), Keep);
        Bucket(gfs, rules.Weekly, "weekly", b => IsoWeek(Local(b, zone)), Keep);
        Bucket(gfs, rules.Monthly, "monthly", b => Local(b, zone).ToString("yyyy-MM", CultureInfo.InvariantCulture), Keep);
        Bucket(gfs, rules.Yearly, "yearly", b => Local(b, zone).ToString("yyyy", CultureInfo.InvariantCulture), Keep);

        var counts = $"KeepDays {rules.KeepDays.ToString(CultureInfo.InvariantCulture)}, hourly {rules.Hourly}, daily {rules.Daily}, weekly {rules.Weekly}, monthly {rules.Monthly}, yearly {rules.Yearly}";
        return ordered.Select(b => decided.TryGetValue(b.BackupId, out var rule)
                ? new RetentionDecision(b.BackupId, b.At, b.Label, true, rule)
                : new RetentionDecision(b.BackupId, b.At, b.Label, false, deleted.Contains(b.BackupId)
                    ? $"label '{b.Label}': its rule no longer keeps it"
                    : $"not kept by any rule ({counts})"))
            .ToList();
    }

    /// <summary>Keeps the newest backup of each of the <paramref name="count"/> most recent periods that have one.</summary>
    private static void Bucket(List<RetentionCandidate> newestFirst, int count, string name, Func<RetentionCandidate, string> period, Action<RetentionCandidate, string> keep)
    {
        if (count <= 0)
        {
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var b in newestFirst)
        {
            var p = period(b);
            if (seen.Add(p))
            {
                keep(b, $"{name} {seen.Count} of {count} ({p})");
                if (seen.Count == count)
                {
                    return;
                }
            }
        }
    }

    private static DateTime Local(RetentionCandidate b, TimeZoneInfo zone) => TimeZoneInfo.ConvertTime(b.At, zone).DateTime;

    private static string IsoWeek(DateTime local) =>
        string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(local)}-W{ISOWeek.GetWeekOfYear(local):00}");
}
