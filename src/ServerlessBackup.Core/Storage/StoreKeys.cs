namespace ServerlessBackup.Storage;

/// <summary>Rules for object keys, the same for every store so that a backup can move between them.</summary>
public static class StoreKeys
{
    /// <summary>
    /// Throws unless <paramref name="key"/> is 1–1024 characters of ASCII letters, digits and
    /// <c>. _ - /</c>, with no empty, "." or ".." segment and no leading or trailing "/".
    /// </summary>
    public static void Validate(string key, string parameterName = "key")
    {
        ArgumentException.ThrowIfNullOrEmpty(key, parameterName);
        if (key.Length > 1024)
        {
            throw new ArgumentException("An object key is at most 1024 characters.", parameterName);
        }

        foreach (var c in key)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '/'))
            {
                throw new ArgumentException($"An object key may hold only ASCII letters, digits and . _ - /; '{key}' does not.", parameterName);
            }
        }

        foreach (var segment in key.Split('/'))
        {
            if (segment.Length == 0 || segment == "." || segment == "..")
            {
                throw new ArgumentException($"The object key '{key}' has an empty, '.' or '..' segment.", parameterName);
            }
        }
    }

    /// <summary>Throws unless <paramref name="prefix"/> is empty or a valid key start (may end in "/").</summary>
    public static void ValidatePrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length > 0)
        {
            Validate(prefix.TrimEnd('/'), nameof(prefix));
        }
    }
}
