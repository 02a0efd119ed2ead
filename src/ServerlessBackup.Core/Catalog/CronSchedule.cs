using Cronos;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Catalog;

/// <summary>
/// An NCRONTAB schedule as the Azure Functions timer reads it, evaluated by Cronos: six fields
/// (<c>second minute hour day-of-month month day-of-week</c>), or five (seconds = 0). Fields take
/// <c>*</c>, numbers, ranges, lists, steps and the names JAN–DEC and SUN–SAT (7 is Sunday too).
/// As in NCRONTAB, a day must match BOTH day-of-month and day-of-week when both are restricted. A
/// range that runs backwards (<c>22-5</c>) is refused: NCRONTAB reverses it, other tools wrap it.
/// Evaluated in a time zone: a local time skipped by a DST jump fires when the gap ends; a local
/// time that occurs twice fires once, at its first occurrence.
/// </summary>
public sealed class CronSchedule
{
    private readonly CronExpression cron;

    private CronSchedule(string expression, CronExpression cron)
    {
        Expression = expression;
        this.cron = cron;
    }

    /// <summary>The expression as given.</summary>
    public string Expression { get; }

    /// <summary>Parses an expression.</summary>
    /// <exception cref="SbkException">Configuration, naming the bad field and why.</exception>
    public static CronSchedule Parse(string expression) =>
        TryParse(expression, out var schedule, out var problem) ? schedule! : throw new SbkException(SbkErrorKind.Configuration, $"{problem}. Use six fields (second minute hour day month day-of-week), e.g. 0 0 2 * * * for 02:00 every day.");

    /// <summary>Parses, returning the problem instead of throwing (for configuration validation).</summary>
    public static bool TryParse(string expression, out CronSchedule? schedule, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(expression);
        schedule = null;
        var fields = expression.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields is not (5 or 6))
        {
            problem = $"The schedule '{expression}' is not a valid NCRONTAB expression: it has {fields} field(s); use 6 (second minute hour day month day-of-week, as Azure Functions does) or 5 (minute hour day month day-of-week)";
            return false;
        }

        if (BackwardRange(expression, fields) is { } backwards)
        {
            problem = $"The schedule '{expression}' is not a valid NCRONTAB expression: the range {backwards} runs backwards; the Azure Functions host reads such a range one way (as its reverse) and other cron tools another (wrapping past the end): write what you mean as a list, e.g. 22-23,0-5";
            return false;
        }

        try
        {
            schedule = new CronSchedule(expression, CronExpression.Parse(expression.Trim(), fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard));
            problem = null;
            return true;
        }
        catch (CronFormatException ex)
        {
            // Cronos names the field: "Hours: Value must be a number between 0 and 23 (all inclusive)."
            problem = $"The schedule '{expression}' is not a valid NCRONTAB expression: {ex.Message.Replace("The given cron expression has an invalid format. ", string.Empty, StringComparison.Ordinal).TrimEnd('.')}";
            return false;
        }
    }

    private static readonly string[] Months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] Days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    /// <summary>The first range a-b with a &gt; b in any field, or null.</summary>
    private static string? BackwardRange(string expression, int fields)
    {
        var parts = expression.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            var names = (fields - i) switch { 2 => Months, 1 => Days, _ => null };
            var offset = names == Months ? 1 : 0;
            foreach (var item in parts[i].Split(','))
            {
                var range = item.Split('/')[0].Split('-');
                if (range.Length == 2 && Value(range[0], names, offset) is { } from && Value(range[1], names, offset) is { } to && from > to)
                {
                    return item.Split('/')[0];
                }
            }
        }

        return null;

        static int? Value(string text, string[]? names, int offset) =>
            int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) ? number
            : names is not null && Array.FindIndex(names, n => n.Equals(text, StringComparison.OrdinalIgnoreCase)) is var index and >= 0 ? index + offset
            : null;
    }

    /// <summary>
    /// The first occurrence strictly after <paramref name="after"/>, evaluated in <paramref name="zone"/>;
    /// null if the schedule never fires (for example 30 February).
    /// </summary>
    public DateTimeOffset? Next(DateTimeOffset after, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        return cron.GetNextOccurrence(after, zone, inclusive: false);
    }

    /// <summary>Occurrences in (<paramref name="after"/>, <paramref name="until"/>], at most <paramref name="limit"/>.</summary>
    public IEnumerable<DateTimeOffset> Occurrences(DateTimeOffset after, DateTimeOffset until, TimeZoneInfo zone, int limit = 10_000)
    {
        ArgumentNullException.ThrowIfNull(zone);
        return cron.GetOccurrences(after, until, zone, fromInclusive: false, toInclusive: true).Take(limit);
    }

    /// <inheritdoc />
    public override string ToString() => Expression;
}
