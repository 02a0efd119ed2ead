namespace ServerlessBackup.Diagnostics;

/// <summary>
/// What kind of value a .NET type takes, in a user's words ("a whole number", "one of FileSystem,
/// AzureBlob"): what an error says in place of the type name a parser gave (configuration values,
/// API bodies), which tells the user nothing and describes sbk's insides.
/// </summary>
internal static class ValueKind
{
    /// <summary>The kind of value <paramref name="typeName"/> (as <see cref="Type.ToString"/> writes it) takes, or null when the type is not known here.</summary>
    public static string? Of(string typeName) => Type.GetType(typeName) is { } type ? Of(type) : null;

    /// <summary>The kind of value <paramref name="type"/> takes.</summary>
    public static string Of(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            { IsEnum: true } => "one of " + string.Join(", ", Enum.GetNames(type)),
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte) => "a whole number",
            _ when type == typeof(double) || type == typeof(decimal) || type == typeof(float) => "a number",
            _ when type == typeof(TimeSpan) => "a duration such as 00:30:00",
            _ when type == typeof(string) || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Uri) => "a string",
            _ when typeof(System.Collections.IEnumerable).IsAssignableFrom(type) => "an array",
            _ => "an object",
        };
    }
}
