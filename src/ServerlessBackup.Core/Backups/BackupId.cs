using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace ServerlessBackup.Backups;

/// <summary>
/// Backup ids sort by time: <c>yyyyMMddTHHmmssZ-xxxxxx</c> (UTC start time, then 6 random
/// base-32 characters so two backups in one second differ).
/// </summary>
public static partial class BackupId
{
    private const string Alphabet = "abcdefghijkmnpqrstuvwxyz23456789";

    [GeneratedRegex(@"^[0-9]{8}T[0-9]{6}Z-[a-z2-9]{6}\z")]
    private static partial Regex Pattern();

    /// <summary>A new id for a backup started at <paramref name="startedAt"/>.</summary>
    public static string New(DateTimeOffset startedAt)
    {
        Span<char> suffix = stackalloc char[6];
        for (var i = 0; i < suffix.Length; i++)
        {
            suffix[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }

        return startedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-" + new string(suffix);
    }

    /// <summary>Whether <paramref name="value"/> has the form of a backup id.</summary>
    public static bool IsValid(string? value) => value is not null && Pattern().IsMatch(value);
}
