using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ServerlessBackup.Restore;

/// <summary>
/// How scratch databases are named and marked. The name carries a fixed prefix, the source
/// database, the backup id and the expiry, and fits PostgreSQL's 63-byte identifier limit:
/// <c>sbk_scratch_shop_20261121084627k3f9x2_x2611221008_a7c2</c>. The authoritative facts are
/// in a marker (<c>COMMENT ON DATABASE</c>, JSON): the janitor drops only databases with both the
/// prefix and a valid marker, so a look-alike name is never enough.
/// </summary>
internal static class ScratchNames
{
    public const string Prefix = "sbk_scratch_";
    private const int MaxIdentifierBytes = 63;
    private const string Marker = "sbk-scratch";

    /// <summary>A new name for a scratch copy of <paramref name="source"/>'s backup <paramref name="backupId"/>.</summary>
    public static string Create(string source, string backupId, DateTimeOffset expiresAt)
    {
        // The id's digits and random suffix, without its 'T' and 'Z-' separators.
        var id = backupId.Replace("T", string.Empty, StringComparison.Ordinal).Replace("Z-", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
        var expiry = "x" + expiresAt.UtcDateTime.ToString("yyMMddHHmm", CultureInfo.InvariantCulture);
        var random = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2));
        var fixedLength = Prefix.Length + 1 + id.Length + 1 + expiry.Length + 1 + random.Length;
        var db = Sanitize(source, MaxIdentifierBytes - fixedLength);
        return $"{Prefix}{db}_{id}_{expiry}_{random}";
    }

    /// <summary>Whether <paramref name="name"/> has the scratch prefix (necessary, never sufficient).</summary>
    public static bool HasPrefix(string name) => name.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The marker stored as the database's comment; <paramref name="complete"/> false while its restore runs.</summary>
    public static string MarkerFor(string source, string backupId, DateTimeOffset createdAt, DateTimeOffset expiresAt, bool complete = true) =>
        JsonSerializer.Serialize(new MarkerJson(Marker, 1, source, backupId, createdAt, expiresAt, complete), SbkJsonContext.Default.ScratchMarker);

    /// <summary>Reads a marker; null when the comment is not one of ours.</summary>
    public static ScratchDatabase? Parse(string name, string? comment, long sizeBytes)
    {
        if (!HasPrefix(name) || string.IsNullOrEmpty(comment))
        {
            return null;
        }

        try
        {
            var m = JsonSerializer.Deserialize(comment, SbkJsonContext.Default.ScratchMarker);
            return m is { Kind: Marker, Version: 1, Source.Length: > 0, BackupId.Length: > 0 }
                ? new ScratchDatabase(name, m.Source, m.BackupId, m.CreatedAt, m.ExpiresAt, sizeBytes, m.Complete ?? true)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Sanitize(string source, int maxBytes)
    {
        var builder = new StringBuilder();
        foreach (var c in source.ToLowerInvariant())
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }

        var clean = builder.ToString();
        return clean.Length <= maxBytes ? clean : clean[..Math.Max(1, maxBytes)];
    }

    // Complete is absent in markers written before it existed: those restores had finished.
    internal sealed record MarkerJson(string Kind, int Version, string Source, string BackupId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, bool? Complete = null);
}
