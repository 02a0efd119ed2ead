using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ServerlessBackup.Restore;

/// <summary>
/// Names and markers of the databases a restore into a real database makes beside it on its
/// server: the incoming copy (<c>sbk_in_…</c>, restored and verified before it is swapped in) and
/// the replaced database (<c>sbk_prev_…</c>, kept for a swap back). As for scratch databases, a
/// marker comment (JSON) is authoritative: nothing is dropped on its name alone.
/// </summary>
internal static class SwapNames
{
    public const string IncomingPrefix = "sbk_in_";
    public const string PreviousPrefix = "sbk_prev_";
    private const string IncomingKind = "sbk-incoming";
    private const string PreviousKind = "sbk-previous";

    /// <summary>A restore id: its start time and a random suffix.</summary>
    public static string NewRestoreId(DateTimeOffset now) =>
        now.UtcDateTime.ToString("yyMMddHHmmss", CultureInfo.InvariantCulture) + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2));

    public static string Incoming(string target, string restoreId) => Name(IncomingPrefix, target, restoreId);

    public static string Previous(string target, string restoreId) => Name(PreviousPrefix, target, restoreId);

    /// <summary>The marker of an incoming copy while it is restored and checked.</summary>
    public static string IncomingMarker(string catalog, string of, string restoreId, string backupId, DateTimeOffset now) =>
        JsonSerializer.Serialize(new MarkerJson(IncomingKind, 1, catalog, of, restoreId, backupId, now, now), SbkJsonContext.Default.SwapMarker);

    /// <summary>The marker of a replaced database; <paramref name="comment"/> is its own comment, given back on a swap back.</summary>
    public static string PreviousMarker(string catalog, string of, string restoreId, string backupId, DateTimeOffset now, TimeSpan keep, string? comment) =>
        JsonSerializer.Serialize(new MarkerJson(PreviousKind, 1, catalog, of, restoreId, backupId, now, now + keep, comment), SbkJsonContext.Default.SwapMarker);

    /// <summary>A replaced database, or null when <paramref name="comment"/> is not its marker.</summary>
    public static PreviousDatabase? ParsePrevious(string name, string? comment, long size) =>
        name.StartsWith(PreviousPrefix, StringComparison.Ordinal) && Parse(comment) is { Kind: PreviousKind } m
            ? new PreviousDatabase(name, m.Catalog, m.Of, m.RestoreId, m.BackupId, m.At, m.ExpiresAt, size) { OwnComment = m.Comment }
            : null;

    /// <summary>An incoming copy sbk made (prefix and marker): whose, and for which restore; else null.</summary>
    public static (string Catalog, string Of, string RestoreId)? ParseIncoming(string name, string? comment) =>
        name.StartsWith(IncomingPrefix, StringComparison.Ordinal) && Parse(comment) is { Kind: IncomingKind } m ? (m.Catalog, m.Of, m.RestoreId) : null;

    private static MarkerJson? Parse(string? comment)
    {
        if (string.IsNullOrEmpty(comment))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(comment, SbkJsonContext.Default.SwapMarker) is { Version: 1, Catalog.Length: > 0, Of.Length: > 0 } m ? m : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Name(string prefix, string target, string restoreId)
    {
        var clean = new StringBuilder();
        foreach (var c in target.ToLowerInvariant())
        {
            clean.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }

        var room = 63 - prefix.Length - restoreId.Length - 1;
        var part = clean.Length <= room ? clean.ToString() : clean.ToString(0, room);
        return $"{prefix}{restoreId}_{part}";
    }

    internal sealed record MarkerJson(string Kind, int Version, string Catalog, string Of, string RestoreId, string BackupId, DateTimeOffset At, DateTimeOffset ExpiresAt, string? Comment = null);
}
