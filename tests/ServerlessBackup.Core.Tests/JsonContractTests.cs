using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessBackup.Backups;
using ServerlessBackup.Catalog;
using ServerlessBackup.Crypto;
using ServerlessBackup.Drills;
using ServerlessBackup.Hosting;
using ServerlessBackup.Storage;
using ServerlessBackup.Tests.Infrastructure;
using ServerlessBackup.Verify;

namespace ServerlessBackup.Tests;

/// <summary>
/// sbk serializes with code generated at build time (it is published without run-time reflection).
/// Records that are authenticated by serializing them again (a manifest's clear part, a stored
/// verification or drill) must come out byte for byte as the reflection-based serializer wrote them
/// before, or every existing backup would stop authenticating.
/// </summary>
public sealed class JsonContractTests
{
    // The options exactly as they were defined before the generated code (reflection-based).
    private static readonly JsonSerializerOptions OldCanonical = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private static readonly JsonSerializerOptions OldStored = new(OldCanonical) { WriteIndented = true };

    private static readonly JsonSerializerOptions OldWorkflow = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    [Fact]
    public async Task A_real_manifest_and_its_sealed_part_serialize_byte_for_byte_as_before()
    {
        using var catalog = await new TestCatalog().WithMasterKeyAsync();
        await using var source = await TestDatabase.CreateAsync("json");
        await source.ExecuteAsync(Fixture.Schema);
        await catalog.AddDatabaseAsync("shop", source.ConnectionUri);
        var store = catalog.NewFileStore();
        var manifest = await catalog.Engine(store).BackupAsync("shop", "json-contract");

        ManifestPrivate? secret = null;
        await TestManifests.RewriteAsync(store, catalog.Secrets, catalog.Options.MasterKeySecret, "shop", manifest.BackupId, (m, p) =>
        {
            secret = p;
            return (m, p);
        });

        Assert.NotNull(secret);
        Assert.NotEmpty(secret.Census.Tables);
        Assert.NotEmpty(secret.Census.Sequences);
        var clear = manifest with { Sealed = null };
        Assert.Equal(Json(clear, OldCanonical), Json(clear, ManifestCodec.CanonicalJson.Info<Manifest>()));
        Assert.Equal(Json(manifest, OldStored), Json(manifest, ManifestCodec.StoredJson.Info<Manifest>()));
        Assert.Equal(Json(secret, OldCanonical), Json(secret, ManifestCodec.CanonicalJson.Info<ManifestPrivate>()));
        Assert.Contains("\"label\":\"json-contract\"", Json(clear, ManifestCodec.CanonicalJson.Info<Manifest>()), StringComparison.Ordinal);
    }

    [Fact]
    public void Stored_verifications_and_drills_serialize_byte_for_byte_as_before()
    {
        var at = new DateTimeOffset(2026, 12, 1, 8, 30, 15, 123, TimeSpan.Zero);
        var key = new StoredKey("sbk-master-key", "v1", "bm9uY2U=", "d3JhcHBlZA==", "c2FsdA==", "Y29tbWl0");
        var seal = new SealedPart("bm9uY2U=", "Y2lwaGVy");
        var verification = new BackupEngine.StoredVerification(1, "shop", "20261201T083015Z-abc123", VerificationLevel.Assertions, true, at, seal);
        Assert.Equal(Json(verification, OldCanonical), Json(verification, ManifestCodec.CanonicalJson.Info<BackupEngine.StoredVerification>()));
        Assert.Equal(Json(verification, OldStored), Json(verification, ManifestCodec.StoredJson.Info<BackupEngine.StoredVerification>()));
        Assert.Contains("\"level\":\"Assertions\"", Json(verification, ManifestCodec.CanonicalJson.Info<BackupEngine.StoredVerification>()), StringComparison.Ordinal);

        foreach (var drill in new[] { new DrillEngine.StoredDrill(1, "drill-20261201T083015Z-abc123", at, 2, 3, key, seal), new DrillEngine.StoredDrill(1, "drill-x", at, 0, 0, null, null) })
        {
            Assert.Equal(Json(drill, OldWorkflow), Json(drill, Workflows.InProcessWorkflowRuntime.Json.Info<DrillEngine.StoredDrill>()));
        }
    }

    [Fact]
    public void Every_public_enum_is_written_by_name_where_names_are_asked_for()
    {
        var enums = typeof(SbkOptions).Assembly.GetTypes().Where(t => t.IsEnum && (t.IsPublic || t.IsNestedPublic)).ToList();
        Assert.NotEmpty(enums);
        Assert.All(enums, e => Assert.Contains(e, SbkJson.NamedEnums));
        var options = SbkJson.Web(stringEnums: true);
        Assert.Equal("\"Restore\"", JsonSerializer.Serialize(VerificationLevel.Restore, options.Info<VerificationLevel>()));
    }

    [Fact]
    public void Every_class_of_the_catalog_has_its_settings_known_for_the_unknown_setting_check()
    {
        var seen = new HashSet<Type>();
        Walk(typeof(SbkOptions));
        Assert.Contains(typeof(DatabaseOptions), seen);
        Assert.All(seen, t => Assert.True(SbkConfiguration.CatalogProperties.ContainsKey(t), $"{t.Name} is not in SbkConfiguration.CatalogProperties"));

        void Walk(Type type)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(List<>) || type.GetGenericTypeDefinition() == typeof(Dictionary<,>)))
            {
                Walk(type.GetGenericArguments()[^1]);
                return;
            }

            if (!type.IsClass || type == typeof(string) || type == typeof(Uri) || !seen.Add(type))
            {
                return;
            }

            foreach (var property in type.GetProperties().Where(p => p.CanWrite))
            {
                Walk(property.PropertyType);
            }
        }
    }

    private static string Json<T>(T value, JsonSerializerOptions options) => JsonSerializer.Serialize(value, options);

    private static string Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) => JsonSerializer.Serialize(value, info);
}
