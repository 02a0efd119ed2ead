using Microsoft.Extensions.Configuration;
using ServerlessBackup.Catalog;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Hosting;

/// <summary>
/// The catalog from .NET configuration, the same way for every host: <c>sbk.json</c> plus
/// <c>SBK_*</c> variables for the CLI, app settings under <c>Sbk__</c> (and optionally one JSON
/// setting, <c>Sbk__Json</c>, holding the whole catalog) for the Functions app.
/// </summary>
public static partial class SbkConfiguration
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

            // The binder drops an element of a list or dictionary it cannot convert (a database with
            // "RestoreJobs": "two" would vanish from the catalog); each one is bound alone to say why.
            BindElements(configuration);
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key and the value it could not convert; values here are not secrets (config names secrets).
            throw new SbkException(SbkErrorKind.Configuration, $"The configuration in {source} has a value sbk cannot use: {DescribeConversion(ex.Message, configuration)}");
        }

        CatalogValidator.Validate(options, source);
        return options;
    }

    /// <summary>Binds every element of every list and dictionary of the catalog on its own: one that does not convert throws the binder's error.</summary>
    private static void BindElements(IConfiguration root)
    {
        foreach (var database in root.GetSection(nameof(SbkOptions.Databases)).GetChildren())
        {
            database.Get<DatabaseOptions>();
            foreach (var assertion in database.GetSection(nameof(DatabaseOptions.Assertions)).GetChildren())
            {
                assertion.Get<AssertionOptions>();
            }

            foreach (var label in database.GetSection($"{nameof(DatabaseOptions.Retention)}:{nameof(RetentionOptions.Labels)}").GetChildren())
            {
                label.Get<LabelRetention>();
            }
        }

        foreach (var key in root.GetSection($"{nameof(SbkOptions.Api)}:{nameof(ApiOptions.Keys)}").GetChildren())
        {
            key.Get<ApiKeyOptions>();
        }

        foreach (var target in root.GetSection($"{nameof(SbkOptions.Notifications)}:{nameof(NotificationOptions.Targets)}").GetChildren())
        {
            target.Get<NotificationTargetOptions>();
        }
    }

    /// <summary>
    /// The binder's "Failed to convert configuration value 'S3' at 'Store:Kind' to type
    /// 'ServerlessBackup.Catalog.StoreKind'" as what to write instead: "Store:Kind is 'S3'; it takes
    /// FileSystem or AzureBlob". Anything else is passed as it came.
    /// </summary>
    internal static string DescribeConversion(string message, IConfiguration? configuration = null)
    {
        if (FailedConversion().Match(message) is not { Success: true } failed)
        {
            return message;
        }

        // The generated binder leaves the value out of its message; the configuration still has it.
        var (key, typeName) = (failed.Groups[2].Value, failed.Groups[3].Value);
        var value = failed.Groups[1].Success ? failed.Groups[1].Value : configuration?[key] ?? string.Empty;
        var shown = value.Length > 60 ? value[..60] + "…" : value;
        return Diagnostics.ValueKind.Of(typeName) is { } wanted ? $"{key} is '{shown}'; it takes {wanted}." : message;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^Failed to convert configuration value (?:'(.*)' )?at '([^']*)' to type '([^']*)'", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex FailedConversion();

    /// <summary>
    /// The settings of each class of the catalog's options, read once from their types named here
    /// (so that the compiler keeps them: sbk is published without run-time reflection over types it
    /// does not name). A test checks that every class reachable from <see cref="SbkOptions"/> is here.
    /// </summary>
    internal static readonly Dictionary<Type, System.Reflection.PropertyInfo[]> CatalogProperties = new()
    {
        [typeof(SbkOptions)] = PropertiesOf(typeof(SbkOptions)),
        [typeof(StoreOptions)] = PropertiesOf(typeof(StoreOptions)),
        [typeof(SecretStoreOptions)] = PropertiesOf(typeof(SecretStoreOptions)),
        [typeof(DumpOptions)] = PropertiesOf(typeof(DumpOptions)),
        [typeof(ScratchOptions)] = PropertiesOf(typeof(ScratchOptions)),
        [typeof(ApiOptions)] = PropertiesOf(typeof(ApiOptions)),
        [typeof(ApiKeyOptions)] = PropertiesOf(typeof(ApiKeyOptions)),
        [typeof(NotificationOptions)] = PropertiesOf(typeof(NotificationOptions)),
        [typeof(NotificationTargetOptions)] = PropertiesOf(typeof(NotificationTargetOptions)),
        [typeof(DatabaseOptions)] = PropertiesOf(typeof(DatabaseOptions)),
        [typeof(ObjectivesOptions)] = PropertiesOf(typeof(ObjectivesOptions)),
        [typeof(RetentionOptions)] = PropertiesOf(typeof(RetentionOptions)),
        [typeof(LabelRetention)] = PropertiesOf(typeof(LabelRetention)),
        [typeof(AssertionOptions)] = PropertiesOf(typeof(AssertionOptions)),
    };

    private static System.Reflection.PropertyInfo[] PropertiesOf([System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicProperties)] Type type) =>
        type.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance);

    /// <summary>The element type of a dictionary (its values) or a list in the catalog's options; null for anything else.</summary>
    private static Type? ElementOf(Type type) =>
        !type.IsGenericType ? null
        : type.GetGenericTypeDefinition() == typeof(Dictionary<,>) ? type.GetGenericArguments()[1]
        : type.GetGenericTypeDefinition() == typeof(List<>) ? type.GetGenericArguments()[0]
        : null;

    /// <summary>The configuration keys under <paramref name="path"/> that name no property of <paramref name="type"/> (recursively).</summary>
    private static IEnumerable<string> UnknownSettings(IConfiguration section, Type type, string path)
    {
        foreach (var child in section.GetChildren())
        {
            var where = path.Length == 0 ? child.Key : $"{path}:{child.Key}";
            Type? childType;
            if (ElementOf(type) is { } element)
            {
                // A list's keys are its indexes.
                childType = type.GetGenericTypeDefinition() == typeof(Dictionary<,>) || int.TryParse(child.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _) ? element : null;
            }
            else
            {
                childType = CatalogProperties.GetValueOrDefault(type)?.FirstOrDefault(p => p.CanWrite && p.Name.Equals(child.Key, StringComparison.OrdinalIgnoreCase))?.PropertyType;
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
