using ServerlessBackup.Catalog;
using ServerlessBackup.Dump;
using ServerlessBackup.Errors;
using ServerlessBackup.Secrets;

namespace ServerlessBackup.Tests;

public sealed class ConnectionStringTests
{
    private static PgConnectionInfo Parse(string text) => PgConnectionInfo.FromSecret(new SecretValue("db", "1", text));

    [Fact]
    public void Provider_URIs_with_escaped_passwords_become_libpq_variables()
    {
        var info = Parse("postgresql://avnadmin:p%40ss%3Aw%2Frd@pg-x.aivencloud.com:12345/defaultdb?sslmode=require");
        Assert.Equal("pg-x.aivencloud.com", info.Host);
        Assert.Equal(12345, info.Port);
        Assert.Equal("defaultdb", info.Database);
        var env = info.ToLibpqEnvironment();
        Assert.Equal("p@ss:w/rd", env["PGPASSWORD"]);
        Assert.Equal("require", env["PGSSLMODE"]);
        Assert.DoesNotContain("p@ss", info.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Key_value_strings_are_accepted()
    {
        var info = Parse("Host=db.example;Port=6543;Username=app;Password=secret-value-1;Database=shop");
        Assert.Equal("db.example:6543/shop as app", info.Describe());
    }

    [Theory]
    [InlineData("not a connection string at all")]
    [InlineData("postgres://u:p@h:5432/db?sslmode=sometimes")]
    public void Garbage_is_refused_without_quoting_it(string text)
    {
        var ex = Assert.Throws<SbkException>(() => Parse(text));
        Assert.Contains("secret 'db'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(text, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_storage_connection_string_never_shows_its_key_in_the_store_description_or_an_error()
    {
        var secrets = new Secrets.LocalSecretStore(Path.Combine(Path.GetTempPath(), $"sbk-cs-{Guid.NewGuid():N}.json"), _ => null);
        await secrets.SetSecretAsync("storage", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0LWtleS1ieXRlcy0xMjM0NTY=;EndpointSuffix=core.windows.net");
        await secrets.SetSecretAsync("garbled", "AccountKey=c2VjcmV0LWtleS1ieXRlcy0xMjM0NTY=;nonsense");
        var options = new SbkOptions { Store = new StoreOptions { Kind = StoreKind.AzureBlob, ConnectionStringSecret = "storage", Container = "backups" } };

        var store = Hosting.ServiceCollectionExtensions.CreateStore(options, Path.GetTempPath(), secrets, () => throw new InvalidOperationException());
        Assert.DoesNotContain("c2VjcmV0", store.Description, StringComparison.Ordinal);
        options.Store.ConnectionStringSecret = "garbled";
        var garbled = Hosting.ServiceCollectionExtensions.CreateStore(options, Path.GetTempPath(), secrets, () => throw new InvalidOperationException());
        var ex = await Assert.ThrowsAsync<SbkException>(() => garbled.GetInfoAsync("x"));
        Assert.Equal(SbkErrorKind.Configuration, ex.Kind);
        Assert.Contains("'garbled'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_connection_string_pasted_where_a_secret_name_belongs_is_refused_without_echoing_it()
    {
        var options = new SbkOptions();
        options.Databases["prod"] = new DatabaseOptions { ConnectionStringSecret = "postgres://u:Leaky-Pw-123@h/db" };
        var ex = Assert.Throws<SbkException>(() => CatalogValidator.Validate(options, "sbk.json"));
        Assert.Contains("looks like a connection string", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Leaky-Pw-123", ex.Message, StringComparison.Ordinal);
    }
}
