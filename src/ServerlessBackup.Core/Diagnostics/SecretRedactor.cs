using System.Collections.Concurrent;

namespace ServerlessBackup.Diagnostics;

/// <summary>
/// Scrubs every secret value this process has loaded from any text that leaves the engine
/// (messages from pg_dump, the server, the network). Defence in depth: secrets are also kept in
/// types whose <c>ToString()</c> redacts, so they should never reach text in the first place.
/// </summary>
public static class SecretRedactor
{
    private const string Mask = "[redacted]";
    private static readonly ConcurrentDictionary<string, byte> Known = new(StringComparer.Ordinal);

    /// <summary>Remembers a secret (and its URI-escaped form) so that <see cref="Redact"/> removes it.</summary>
    public static void Register(string? secret)
    {
        // Very short values would mask ordinary words; secrets that short are not secrets.
        if (string.IsNullOrEmpty(secret) || secret.Length < 6)
        {
            return;
        }

        Known.TryAdd(secret, 0);
        var escaped = Uri.EscapeDataString(secret);
        if (escaped != secret)
        {
            Known.TryAdd(escaped, 0);
        }
    }

    /// <summary>Returns <paramref name="text"/> with every registered secret replaced by a mask.</summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        foreach (var secret in Known.Keys)
        {
            if (text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, Mask, StringComparison.Ordinal);
            }
        }

        return text;
    }
}
