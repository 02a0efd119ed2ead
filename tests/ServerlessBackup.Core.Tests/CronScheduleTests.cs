using System.Globalization;
using ServerlessBackup.Errors;
using ServerlessBackup.Catalog;

namespace ServerlessBackup.Tests;

public sealed class CronScheduleTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    private static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("0 */5 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")] // step
    [InlineData("0 0 2 * * *", "2026-01-01T02:00:00Z", "2026-01-02T02:00:00Z")] // strictly after
    [InlineData("0 0 2 * * *", "2026-01-01T01:59:59Z", "2026-01-01T02:00:00Z")]
    [InlineData("0 30 9 * * MON-FRI", "2026-11-21T10:00:00Z", "2026-11-23T09:30:00Z")] // named range, over a weekend
    [InlineData("15 3 * * SUN", "2026-11-21T10:00:00Z", "2026-11-22T03:15:00Z")] // five fields
    [InlineData("0 0 8,12,18 * * *", "2026-06-01T12:00:00Z", "2026-06-01T18:00:00Z")] // list
    [InlineData("0 0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z")] // April has 30 days
    [InlineData("0 0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z")] // leap day
    [InlineData("0 0 12 13 * FRI", "2026-01-01T00:00:00Z", "2026-02-13T12:00:00Z")] // day-of-month AND day-of-week
    [InlineData("0 0 12 13 * FRI", "2026-02-13T12:00:00Z", "2026-03-13T12:00:00Z")]
    [InlineData("0 0 0 1 JAN,jul *", "2026-02-01T00:00:00Z", "2026-07-01T00:00:00Z")] // month names, any case
    [InlineData("0 0 9-17/4 * * *", "2026-06-01T13:00:00Z", "2026-06-01T17:00:00Z")] // stepped range
    [InlineData("0 0 9-17/4 * * *", "2026-06-01T17:00:00Z", "2026-06-02T09:00:00Z")]
    [InlineData("0 10/20 * * * *", "2026-06-01T00:31:00Z", "2026-06-01T00:50:00Z")] // a/n
    [InlineData("0 0 0 * * 7", "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z")] // 7 is Sunday
    [InlineData("30 59 23 31 12 *", "2026-12-31T23:59:30Z", "2027-12-31T23:59:30Z")] // year end
    [InlineData("0 0 0 1 * *", "2026-12-15T00:00:00Z", "2027-01-01T00:00:00Z")] // month end into a new year
    public void Next_occurrence_in_UTC(string expression, string after, string expected)
    {
        Assert.Equal(At(expected), CronSchedule.Parse(expression).Next(At(after), TimeZoneInfo.Utc));
    }

    [Theory]
    // 2026-03-29: Berlin jumps from 02:00 CET to 03:00 CEST. 02:30 does not exist that day: it fires when the gap ends.
    [InlineData("0 30 2 * * *", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z")]
    [InlineData("0 30 2 * * *", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z")]
    // 2026-10-25: Berlin goes back from 03:00 CEST to 02:00 CET. 02:30 happens twice: it fires once, the first time.
    [InlineData("0 30 2 * * *", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z")]
    [InlineData("0 30 2 * * *", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z")]
    // Hourly through the repeated hour: an hourly schedule fires every real hour, the repeated 02:00 (01:00 UTC) included.
    [InlineData("0 0 * * * *", "2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z")]
    [InlineData("0 0 * * * *", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z")]
    // An ordinary winter and summer day.
    [InlineData("0 0 2 * * *", "2026-01-10T12:00:00Z", "2026-01-11T01:00:00Z")]
    [InlineData("0 0 2 * * *", "2026-07-10T12:00:00Z", "2026-07-11T00:00:00Z")]
    public void Next_occurrence_in_a_zone_with_daylight_saving(string expression, string after, string expected)
    {
        Assert.Equal(At(expected), CronSchedule.Parse(expression).Next(At(after), Berlin));
    }

    [Fact]
    public void A_daily_schedule_fires_once_a_day_through_both_daylight_saving_changes()
    {
        var schedule = CronSchedule.Parse("0 30 2 * * *");

        var year = schedule.Occurrences(At("2026-01-01T00:00:00Z"), At("2027-01-01T00:00:00Z"), Berlin).ToList();

        Assert.Equal(365, year.Count);
        Assert.Equal(365, year.Select(o => TimeZoneInfo.ConvertTime(o, Berlin).Date).Distinct().Count());
    }

    [Fact]
    public void A_schedule_that_never_fires_has_no_next_occurrence()
    {
        Assert.Null(CronSchedule.Parse("0 0 0 30 2 *").Next(At("2026-01-01T00:00:00Z"), TimeZoneInfo.Utc));
    }

    [Theory]
    [InlineData("* * * *", "4 field(s)")]
    [InlineData("0 0 25 * * *", "Hours: Value must be a number between 0 and 23")]
    [InlineData("0 0 0 * * FUN", "Days of week:")]
    [InlineData("0 0 0 * 13 *", "Months: Value must be a number between 1 and 12")]
    [InlineData("0 */0 * * * *", "Minutes:")]
    [InlineData("0 0 0 0 * *", "Days of month:")]
    [InlineData("0 0 17-9 * * *", "the range 17-9 runs backwards")]
    [InlineData("0 0 1,,2 * * *", "Hours:")]
    [InlineData("61 * * * * *", "Seconds: Value must be a number between 0 and 59")]
    public void An_invalid_expression_names_the_bad_field(string expression, string expected)
    {
        var ex = Assert.Throws<SbkException>(() => CronSchedule.Parse(expression));

        Assert.Equal(SbkErrorKind.Configuration, ex.Kind);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains($"'{expression}'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0 0 22-5 * * *", "22-5")]
    [InlineData("0 0 0 * * FRI-MON", "FRI-MON")]
    [InlineData("0 0 0 1 NOV-FEB/2 *", "NOV-FEB")]
    public void A_range_that_runs_backwards_is_refused_because_NCRONTAB_and_cron_read_it_differently(string expression, string range)
    {
        var ex = Assert.Throws<SbkException>(() => CronSchedule.Parse(expression));
        Assert.Contains($"the range {range} runs backwards", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(CronSchedule.Parse("0 0 22-23,0-5 * * *"));
    }
}

/// <summary>
/// Our schedules (Cronos) against NCrontab.Signed, the evaluator the Azure Functions host uses for
/// timers, over generated expressions and instants in UTC: the same next occurrence every time.
/// The one deliberate difference, time zones (NCrontab has none; see the README), is not generated;
/// ranges that run backwards, which NCrontab reverses and other tools wrap, we refuse.
/// </summary>
public sealed class CronDifferentialTests
{
    private static string Field(Random random, int min, int max, string[]? names = null)
    {
        int Pick() => random.Next(min, max + 1);
        var (a, b) = (Pick(), Pick());
        var (low, high) = (Math.Min(a, b), Math.Max(a, b));
        string Name(int v) => names is not null && random.Next(3) == 0 ? names[v - min] : v.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return random.Next(8) switch
        {
            0 or 1 => "*",
            2 => Name(a),
            3 => $"{Name(low)}-{Name(high)}",
            4 => $"*/{random.Next(1, Math.Max(2, (max - min) / 2 + 1))}",
            5 => $"{low}-{high}/{random.Next(1, 5)}",
            6 => string.Join(',', Enumerable.Range(0, random.Next(2, 4)).Select(_ => Pick()).Distinct().Order().Select(Name)),
            _ => $"{Name(a)},{Name(b == a ? min : b)}",
        };
    }

    [Fact]
    public void Next_occurrences_in_UTC_match_NCrontab_over_a_thousand_generated_schedules()
    {
        var random = new Random(20261130);
        string[] months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
        string[] days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
        var compared = 0;
        for (var i = 0; i < 1000; i++)
        {
            var expression = string.Join(' ', Field(random, 0, 59), Field(random, 0, 59), Field(random, 0, 23), Field(random, 1, 28), Field(random, 1, 12, months), Field(random, 0, 6, days));
            var ours = CronSchedule.Parse(expression);
            var theirs = NCrontab.CrontabSchedule.Parse(expression, new NCrontab.CrontabSchedule.ParseOptions { IncludingSeconds = true });
            var at = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(random.NextInt64(0, 3L * 365 * 24 * 3600));
            for (var step = 0; step < 5; step++)
            {
                var expected = theirs.GetNextOccurrence(at, at.AddYears(30));
                var actual = ours.Next(new DateTimeOffset(at), TimeZoneInfo.Utc);
                if (expected >= at.AddYears(30))
                {
                    Assert.Null(actual);
                    break;
                }

                Assert.True(actual == new DateTimeOffset(expected, TimeSpan.Zero), $"'{expression}' after {at:u}: NCrontab says {expected:u}, we say {actual:u}");
                compared++;
                at = expected;
            }
        }

        Assert.True(compared > 3000, $"only {compared} occurrences compared");
    }

    [Fact]
    public void A_backward_range_NCrontab_would_silently_reverse_is_refused_by_us()
    {
        var reversed = NCrontab.CrontabSchedule.Parse("0 0 22-5 * * *", new NCrontab.CrontabSchedule.ParseOptions { IncludingSeconds = true });
        Assert.Equal(new DateTime(2026, 1, 1, 5, 0, 0, DateTimeKind.Utc), reversed.GetNextOccurrence(new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)));
        Assert.False(CronSchedule.TryParse("0 0 22-5 * * *", out _, out _));
    }
}
