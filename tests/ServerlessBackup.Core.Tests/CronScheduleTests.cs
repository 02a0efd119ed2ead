using System.Globalization;
using ServerlessBackup.Errors;
using ServerlessBackup.Schedules;

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
    // Hourly through the repeated hour: 02:00 (first time) then 03:00; the second 02:00 does not fire again.
    [InlineData("0 0 * * * *", "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z")]
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
    [InlineData("0 0 25 * * *", "hour field '25' is wrong: 25 is outside 0-23")]
    [InlineData("0 0 0 * * FUN", "day-of-week field 'FUN' is wrong")]
    [InlineData("0 0 0 * 13 *", "month field '13' is wrong")]
    [InlineData("0 */0 * * * *", "minute field '*/0' is wrong")]
    [InlineData("0 0 0 0 * *", "day-of-month field '0' is wrong")]
    [InlineData("0 0 17-9 * * *", "the range 17-9 runs backwards")]
    [InlineData("0 0 1,,2 * * *", "empty list element")]
    [InlineData("61 * * * * *", "second field '61' is wrong")]
    public void An_invalid_expression_names_the_bad_field(string expression, string expected)
    {
        var ex = Assert.Throws<SbkException>(() => CronSchedule.Parse(expression));

        Assert.Equal(SbkErrorKind.Configuration, ex.Kind);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
