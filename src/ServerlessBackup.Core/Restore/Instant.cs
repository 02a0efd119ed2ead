using System.Globalization;
using System.Text.RegularExpressions;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Restore;

/// <summary>
/// Reads the instant of <c>--before</c> (and the API's <c>"backup": {"before": …}</c>): an ISO 8601
/// time with its offset (<c>2026-11-30T14:05:00Z</c>, <c>2026-11-30 15:05+01:00</c>), or a span
/// ago (<c>90m</c>, <c>2h</c>, <c>1d</c>). A time without an offset is refused: at 3 a.m. nobody
/// should have to guess which time zone sbk assumed.
/// </summary>
public static partial class Instant
{
    [GeneratedRegex(@"^(\d{1,6})\s*(s|m|h|d)\z", RegexOptions.IgnoreCase)]
    private static partial Regex Ago();

    // A calendar date first (2026-11-30...): what is not one is no time at all, rather than a time without a zone.
    [GeneratedRegex(@"^\d{4}-\d{1,2}-\d{1,2}")]
    private static partial Regex LooksLikeDate();

    // A time of day, then its zone: a date alone ("2026-11-30") must not read its day as an offset.
    [GeneratedRegex(@"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)\z", RegexOptions.IgnoreCase)]
    private static partial Regex HasOffset();

    /// <summary>Parses <paramref name="text"/>; spans count back from <paramref name="now"/>.</summary>
    /// <exception cref="SbkException">Configuration, saying which forms are accepted.</exception>
    public static DateTimeOffset Parse(string text, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim();
        if (Ago().Match(value) is { Success: true } ago)
        {
            var amount = int.Parse(ago.Groups[1].Value, CultureInfo.InvariantCulture);
            var span = char.ToLowerInvariant(ago.Groups[2].Value[0]) switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                _ => TimeSpan.FromDays(amount),
            };
            if (span > now - DateTimeOffset.MinValue.AddDays(1))
            {
                throw new SbkException(SbkErrorKind.Configuration, $"'{value}' reaches back before the year 1, which no backup was taken before. Give a shorter span or a time with its offset (2026-11-30T14:05Z).");
            }

            return now - span;
        }

        var shown = value.Length > 40 ? value[..40] + "…" : value;
        if (!LooksLikeDate().IsMatch(value))
        {
            // "yesterday", "5y", "last night": neither a date nor a span sbk reads.
            throw NotATime(shown);
        }

        if (!HasOffset().IsMatch(value))
        {
            throw new SbkException(SbkErrorKind.Configuration,
                $"The time '{shown}' has no time zone. Give it with its offset, e.g. {now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture)}Z for UTC or …+01:00, or as a span ago: 90m, 2h, 1d.");
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant)
            ? instant
            : throw NotATime(shown);
    }

    private static SbkException NotATime(string shown) => new(SbkErrorKind.Configuration,
        $"'{shown}' is not a time sbk can read. Use ISO 8601 with its offset (2026-11-30T14:05Z, 2026-11-30 15:05+01:00) or a span ago in seconds, minutes, hours or days (45s, 90m, 2h, 1d).");
}
