using System.Globalization;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Schedules;

/// <summary>
/// An NCRONTAB schedule as the Azure Functions timer reads it: six fields
/// (<c>second minute hour day-of-month month day-of-week</c>), or five (seconds = 0). Fields take
/// <c>*</c>, numbers, ranges <c>a-b</c>, lists <c>a,b</c>, steps <c>*/n</c>, <c>a-b/n</c> and
/// <c>a/n</c>, and the names JAN–DEC and SUN–SAT (day of week 0–6, 7 is Sunday too). As in
/// NCRONTAB, a day must match BOTH day-of-month and day-of-week when both are restricted (classic
/// cron matches either). Evaluated in a time zone: a local time skipped by a DST jump fires at the
/// end of the gap; a local time that occurs twice fires once, at its first occurrence.
/// </summary>
public sealed class CronSchedule
{
    private static readonly string[] FieldNames = ["second", "minute", "hour", "day-of-month", "month", "day-of-week"];
    private static readonly string[] Months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] Days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private readonly bool[] seconds;
    private readonly bool[] minutes;
    private readonly bool[] hours;
    private readonly bool[] daysOfMonth;
    private readonly bool[] months;
    private readonly bool[] daysOfWeek;

    private CronSchedule(string expression, bool[][] fields)
    {
        Expression = expression;
        (seconds, minutes, hours, daysOfMonth, months, daysOfWeek) = (fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]);
    }

    /// <summary>The expression as given.</summary>
    public string Expression { get; }

    /// <summary>Parses an expression.</summary>
    /// <exception cref="SbkException">Configuration, naming the bad field and why.</exception>
    public static CronSchedule Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var parts = expression.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is not (5 or 6))
        {
            throw Bad(expression, $"it has {parts.Length} field(s); use 6 (second minute hour day month day-of-week, as Azure Functions does) or 5 (minute hour day month day-of-week)");
        }

        if (parts.Length == 5)
        {
            parts = ["0", .. parts];
        }

        int[] min = [0, 0, 0, 1, 1, 0];
        int[] max = [59, 59, 23, 31, 12, 7];
        var fields = new bool[6][];
        for (var i = 0; i < 6; i++)
        {
            fields[i] = ParseField(expression, i, parts[i], min[i], max[i], i == 4 ? Months : i == 5 ? Days : null);
        }

        // 7 is Sunday, as 0.
        fields[5][0] |= fields[5][7];
        return new CronSchedule(expression, fields);
    }

    /// <summary>Parses, returning the problem instead of throwing (for configuration validation).</summary>
    public static bool TryParse(string expression, out CronSchedule? schedule, out string? problem)
    {
        try
        {
            schedule = Parse(expression);
            problem = null;
            return true;
        }
        catch (SbkException ex)
        {
            schedule = null;
            problem = ex.Message;
            return false;
        }
    }

    /// <summary>
    /// The first occurrence strictly after <paramref name="after"/>, evaluated in <paramref name="zone"/>;
    /// null if the schedule never fires (for example 30 February) within the next eight years.
    /// </summary>
    public DateTimeOffset? Next(DateTimeOffset after, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var local = TimeZoneInfo.ConvertTime(after, zone).DateTime;
        var candidate = new DateTime(local.Year, local.Month, local.Day, local.Hour, local.Minute, local.Second, DateTimeKind.Unspecified).AddSeconds(1);
        var limit = candidate.AddYears(8);
        while (NextLocal(candidate, limit) is { } match)
        {
            var instant = ToInstant(match, zone);
            if (instant > after)
            {
                return instant;
            }

            // Only the second occurrence of a repeated local time lands here: it already fired.
            candidate = match.AddSeconds(1);
        }

        return null;
    }

    /// <summary>Occurrences in (<paramref name="after"/>, <paramref name="until"/>], at most <paramref name="limit"/>.</summary>
    public IEnumerable<DateTimeOffset> Occurrences(DateTimeOffset after, DateTimeOffset until, TimeZoneInfo zone, int limit = 10_000)
    {
        var count = 0;
        var at = after;
        while (count++ < limit && Next(at, zone) is { } next && next <= until)
        {
            yield return next;
            at = next;
        }
    }

    private static DateTimeOffset ToInstant(DateTime local, TimeZoneInfo zone)
    {
        if (zone.IsInvalidTime(local))
        {
            // Skipped by a jump forward: fire when the gap ends, the first valid local time after it.
            var after = local;
            do
            {
                after = after.AddMinutes(1);
                after = new DateTime(after.Year, after.Month, after.Day, after.Hour, after.Minute, 0, DateTimeKind.Unspecified);
            }
            while (zone.IsInvalidTime(after));

            return new DateTimeOffset(after, zone.GetUtcOffset(after));
        }

        if (zone.IsAmbiguousTime(local))
        {
            // Repeated by a jump back: its first occurrence is the one with the larger offset.
            return new DateTimeOffset(local, zone.GetAmbiguousTimeOffsets(local).Max());
        }

        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    /// <summary>The first local time at or after <paramref name="t"/> matching every field, or null before <paramref name="limit"/>.</summary>
    private DateTime? NextLocal(DateTime t, DateTime limit)
    {
        while (t < limit)
        {
            if (!months[t.Month])
            {
                t = new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Unspecified).AddMonths(1);
            }
            else if (!daysOfMonth[t.Day] || !daysOfWeek[(int)t.DayOfWeek])
            {
                t = t.Date.AddDays(1);
            }
            else if (!hours[t.Hour])
            {
                t = new DateTime(t.Year, t.Month, t.Day, t.Hour, 0, 0, DateTimeKind.Unspecified).AddHours(1);
            }
            else if (!minutes[t.Minute])
            {
                t = new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, DateTimeKind.Unspecified).AddMinutes(1);
            }
            else if (!seconds[t.Second])
            {
                t = t.AddSeconds(1);
            }
            else
            {
                return t;
            }
        }

        return null;
    }

    private static bool[] ParseField(string expression, int index, string text, int min, int max, string[]? names)
    {
        var set = new bool[max + 1];
        foreach (var element in text.Split(','))
        {
            if (element.Length == 0)
            {
                throw BadField(expression, index, text, "it has an empty list element");
            }

            var (range, stepText) = element.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0 ? (element[..slash], element[(slash + 1)..]) : (element, null);
            int from, to;
            if (range == "*")
            {
                (from, to) = (min, index == 5 ? 6 : max);
            }
            else if (range.IndexOf('-', 1) is var dash and > 0)
            {
                from = Value(expression, index, text, range[..dash], min, max, names);
                to = Value(expression, index, text, range[(dash + 1)..], min, max, names);
                if (to < from)
                {
                    throw BadField(expression, index, text, $"the range {range} runs backwards");
                }
            }
            else
            {
                from = Value(expression, index, text, range, min, max, names);
                // "a/n" means from a to the end, every n.
                to = stepText is null ? from : index == 5 ? 6 : max;
            }

            var step = 1;
            if (stepText is not null && (!int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1 || step > max))
            {
                throw BadField(expression, index, text, $"the step '{stepText}' is not a number from 1 to {max}");
            }

            for (var v = from; v <= to; v += step)
            {
                set[v] = true;
            }
        }

        return set;
    }

    private static int Value(string expression, int index, string text, string value, int min, int max, string[]? names)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number >= min && number <= max ? number : throw BadField(expression, index, text, $"{number} is outside {min}-{max}");
        }

        if (names is not null)
        {
            var at = Array.FindIndex(names, n => n.Equals(value, StringComparison.OrdinalIgnoreCase));
            if (at >= 0)
            {
                return names == Months ? at + 1 : at;
            }

            throw BadField(expression, index, text, $"'{value}' is neither a number nor one of {string.Join(", ", names)}");
        }

        throw BadField(expression, index, text, $"'{value}' is not a number");
    }

    private static SbkException BadField(string expression, int index, string text, string why) =>
        Bad(expression, $"its {FieldNames[index]} field '{text}' is wrong: {why}");

    private static SbkException Bad(string expression, string why) =>
        new(SbkErrorKind.Configuration, $"The schedule '{expression}' is not a valid NCRONTAB expression: {why}.");
}
