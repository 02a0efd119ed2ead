namespace ServerlessBackup.Diagnostics;

/// <summary>
/// What kind of value a .NET type takes, in a user's words ("a whole number", "one of FileSystem,
/// AzureBlob"): what an error says in place of the type name a parser gave (configuration values,
/// API bodies), which tells the user nothing and describes sbk's insides.
/// </summary>
internal static class ValueKind
{
    /// <summary>The kind of value <paramref name="typeName"/> (as <see cref="Type.ToString"/> writes it) takes, or null when the type is not known here.</summary>
    public static string? Of(string typeName)
    {
        // "System.Nullable`1[System.Int32]" takes what System.Int32 takes.
        const string NullableOf = "System.Nullable`1[";
        var name = typeName.StartsWith(NullableOf, StringComparison.Ordinal) && typeName.EndsWith(']') ? typeName[NullableOf.Length..^1] : typeName;
        return Known.TryGetValue(name, out var type) ? Of(type) : null;
    }

    /// <summary>The types a configuration value or a request field can have, by the name a parser gives (no lookup by name at run time: sbk runs without reflection).</summary>
    private static readonly Dictionary<string, Type> Known = new Type[]
    {
        typeof(bool), typeof(int), typeof(long), typeof(short), typeof(byte), typeof(double), typeof(decimal), typeof(float), typeof(TimeSpan), typeof(DateTime), typeof(DateTimeOffset),
        typeof(string), typeof(Uri), typeof(string[]), typeof(List<string>), typeof(IReadOnlyList<string>), typeof(Dictionary<string, string>),
    }.Concat(SbkJson.NamedEnums).ToDictionary(t => t.ToString(), StringComparer.Ordinal);

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
