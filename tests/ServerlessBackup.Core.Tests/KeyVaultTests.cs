using ServerlessBackup.Backups;
using ServerlessBackup.Errors;
using ServerlessBackup.Secrets;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>The real SecretClient against <see cref="KeyVaultFake"/>, a protocol-level fake of Key Vault (no emulator exists).</summary>
public sealed class KeyVaultTests
{
    private static KeyVaultSecretStore Store(KeyVaultFake vault, KeyVaultFake.TestCredential? credential = null, TimeSpan? cache = null) =>
        new(vault.VaultUri, credential ?? new KeyVaultFake.TestCredential(), vault.ClientOptions(), cache ?? TimeSpan.Zero);

    [Fact]
    public async Task Secrets_are_set_and_read_by_name_and_by_version_through_the_bearer_challenge()
    {
        await using var vault = await KeyVaultFake.StartAsync();
        var credential = new KeyVaultFake.TestCredential();
        var store = Store(vault, credential);

        var first = await store.SetSecretAsync("shop-db", "postgres://u:first@h/db");
        var second = await store.SetSecretAsync("shop-db", "postgres://u:second@h/db");

        Assert.NotEqual(first.Version, second.Version);
        Assert.Equal("postgres://u:second@h/db", (await store.GetSecretAsync("shop-db")).Reveal());
        Assert.Equal("postgres://u:first@h/db", (await store.GetSecretAsync("shop-db", first.Version)).Reveal());
        Assert.Equal(second.Version, (await store.GetSecretAsync("shop-db")).Version);
        Assert.Contains("https://vault.azure.net/.default", credential.Scopes);
        Assert.Contains(vault.Requests, r => !r.Headers.ContainsKey("Authorization")); // the challenge round trip happened
    }

    [Fact]
    public async Task Not_found_forbidden_and_throttled_say_what_to_do_without_a_value()
    {
        await using var vault = await KeyVaultFake.StartAsync();
        var store = Store(vault);
        await store.SetSecretAsync("known", "s3cret-value-Canary");
        vault.Forbidden.Add("locked");
        vault.Throttled.Add("busy");

        var missing = await Assert.ThrowsAsync<SbkException>(() => store.GetSecretAsync("nope"));
        var missingVersion = await Assert.ThrowsAsync<SbkException>(() => store.GetSecretAsync("known", "0123456789abcdef0123456789abcdef"));
        var forbidden = await Assert.ThrowsAsync<SbkException>(() => store.GetSecretAsync("locked"));
        var forbiddenWrite = await Assert.ThrowsAsync<SbkException>(() => store.SetSecretAsync("locked", "x"));
        var throttled = await Assert.ThrowsAsync<SbkException>(() => store.GetSecretAsync("busy"));

        Assert.Equal(SbkErrorKind.NotFound, missing.Kind);
        Assert.Contains("The secret 'nope' is not in the Key Vault", missing.Message, StringComparison.Ordinal);
        Assert.Equal(SbkErrorKind.NotFound, missingVersion.Kind);
        Assert.Equal(SbkErrorKind.Configuration, forbidden.Kind);
        Assert.Contains("'Key Vault Secrets User' role", forbidden.Message, StringComparison.Ordinal);
        Assert.Contains("'Key Vault Secrets Officer' role", forbiddenWrite.Message, StringComparison.Ordinal);
        Assert.Equal(SbkErrorKind.Failed, throttled.Kind);
        Assert.True(throttled.IsTransient);
        foreach (var ex in new[] { missing, missingVersion, forbidden, forbiddenWrite, throttled })
        {
            Assert.DoesNotContain("s3cret-value-Canary", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_current_version_is_cached_briefly_and_a_write_refreshes_it()
    {
        await using var vault = await KeyVaultFake.StartAsync();
        var store = Store(vault, cache: TimeSpan.FromMinutes(5));
        await store.SetSecretAsync("cached", "one");
        await store.GetSecretAsync("cached");
        var reads = vault.Requests.Count(r => r.Method == "GET");

        await store.GetSecretAsync("cached");
        Assert.Equal(reads, vault.Requests.Count(r => r.Method == "GET"));
        await store.SetSecretAsync("cached", "two");
        Assert.Equal("two", (await store.GetSecretAsync("cached")).Reveal());
    }

    [Fact]
    public async Task Backups_survive_a_master_key_rotation_in_Key_Vault()
    {
        await using var vault = await KeyVaultFake.StartAsync();
        var secrets = Store(vault);
        using var catalog = new TestCatalog();
        await using var source = await TestDatabase.CreateAsync("src");
        await source.ExecuteAsync(Fixture.Schema);
        await secrets.SetSecretAsync("shop-db", source.ConnectionUri);
        catalog.Options.Databases["shop"] = new Catalog.DatabaseOptions { ConnectionStringSecret = "shop-db" };
        await secrets.SetSecretAsync(catalog.Options.MasterKeySecret, Crypto.MasterKey.GenerateSecretValue());
        var engine = new BackupEngine(catalog.Options, catalog.NewFileStore(), secrets);
        var before = await engine.BackupAsync("shop");

        await secrets.SetSecretAsync(catalog.Options.MasterKeySecret, Crypto.MasterKey.GenerateSecretValue()); // sbk keys rotate
        var after = await engine.BackupAsync("shop");

        Assert.NotEqual(before.Key.KekVersion, after.Key.KekVersion);
        foreach (var manifest in new[] { before, after })
        {
            var archive = Path.Combine(catalog.Directory, manifest.BackupId + ".dump");
            await engine.DecryptAsync("shop", manifest.BackupId, archive);
            await using var copy = await TestDatabase.CreateAsync("copy");
            var (exit, errors) = await PgTools.RestoreAsync(archive, copy);
            Assert.True(exit == 0, errors);
            Assert.Equal(await source.FingerprintAsync(), await copy.FingerprintAsync());
        }
    }
}
