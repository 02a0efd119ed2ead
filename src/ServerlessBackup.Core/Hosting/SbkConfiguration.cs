using Microsoft.Extensions.Configuration;
using ServerlessBackup.Catalog;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Hosting;

/// <summary>
/// The catalog from .NET configuration, the same way for every host: <c>sbk.json</c> plus
/// <c>SBK_*</c> variables for the CLI, app settings under <c>Sbk__</c> (and optionally one JSON
/// setting, <c>Sbk__Json</c>, holding the whole catalog) for the Functions app.
/// </summary>
public static class SbkConfiguration
{
    /// <summary>The app settings section the Functions app reads.</summary>
    public const string FunctionsSection = "Sbk";

    /// <summary>
    /// The Functions app's catalog configuration: the <c>Sbk</c> section of <paramref name="root"/>,
    /// over the JSON document in <c>Sbk:Json</c> when one is set (single settings win over it).
    /// </summary>
    /// <exception cref="SbkException">Sbk:Json is not valid JSON (the message says so, without echoing it).</exception>
    public static IConfiguration ForFunctions(IConfiguration root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var section = root.GetSection(FunctionsSection);
        var settings = section.AsEnumerable(makePathsRelative: true)
            .Where(kv => kv.Value is not null && !kv.Key.Equals("Json", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase);
        var builder = new ConfigurationBuilder();
        if (section["Json"] is { Length: > 0 } json)
        {
            builder.AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json)));
        }

        try
        {
            return builder.AddInMemoryCollection(settings).Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            throw new SbkException(SbkErrorKind.Configuration, $"The app setting {FunctionsSection}__Json is not a valid JSON catalog: {ex.InnerException?.Message ?? ex.Message}");
        }
    }

    /// <summary>
    /// Binds and validates the options from <paramref name="configuration"/>. With
    /// <paramref name="strict"/>, a setting that names nothing sbk reads is a problem too (a typo
    /// such as <c>Shedule</c> would otherwise be ignored in silence).
    /// </summary>
    /// <param name="configuration">The catalog's configuration (its root, or the Functions app's <c>Sbk</c> section).</param>
    /// <param name="source">Where it came from, for messages ("sbk.json and SBK_* variables", "app settings Sbk__*").</param>
    /// <param name="strict">Refuse settings sbk does not read (each one named, as a path such as <c>Databases:app:Shedule</c>).</param>
    /// <exception cref="SbkException">Kind Configuration, listing every problem and naming each setting.</exception>
    public static SbkOptions Bind(IConfiguration configuration, string source, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (strict && UnknownSettings(configuration, typeof(SbkOptions), string.Empty).ToList() is { Count: > 0 } unknown)
        {
            throw new SbkException(SbkErrorKind.Configuration, $"The configuration in {source} has {unknown.Count} setting(s) sbk does not read (a typo?): {string.Join(", ", unknown)}. See README.md, 'Configuration', for the names.");
        }

        SbkOptions options;
        try
        {
            options = configuration.Get<SbkOptions>() ?? new SbkOptions();
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key and the value it could not convert; values here are not secrets (config names secrets).
            throw new SbkException(SbkErrorKind.Configuration, $"The configuration in {source} has a value sbk cannot use: {ex.Message}");
        }

        CatalogValidator.Validate(options, source);
        return options;
    }

    /// <summary>The configuration keys under <paramref name="path"/> that name no property of <paramref name="type"/> (recursively).</summary>
    private static IEnumerable<string> UnknownSettings(IConfiguration section, Type type, string path)
    {
        foreach (var child in section.GetChildren())
        {
            var where = path.Length == 0 ? child.Key : $"{path}:{child.Key}";
            Type? childType;
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                childType = type.GetGenericArguments()[1];
            }
            else if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
            {
                childType = int.TryParse(child.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _) ? type.GetGenericArguments()[0] : null;
            }
            else
            {
                childType = type.GetProperty(child.Key, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase) is { CanWrite: true } property ? property.PropertyType : null;
            }

            if (childType is null)
            {
                yield return where;
                continue;
            }

            childType = Nullable.GetUnderlyingType(childType) ?? childType;
            if (childType.IsClass && childType != typeof(string) && childType != typeof(Uri))
            {
                foreach (var unknown in UnknownSettings(child, childType, where))
                {
                    yield return unknown;
                }
            }
            else if (child.GetChildren().Any())
            {
                yield return where + ":" + child.GetChildren().First().Key;
            }
        }
    }
}
