using Npgsql;
using ServerlessBackup.Storage;
using Azure.Storage.Blobs;

namespace ServerlessBackup.Tests.Infrastructure;

/// <summary>
/// The real servers scripts/test.sh starts. A missing variable is a failure with instructions,
/// never a silent skip.
/// </summary>
internal static class TestServers
{
    public static string Host => Require("SBK_TEST_PG_HOST");

    public static int Port => int.Parse(Require("SBK_TEST_PG_PORT"), System.Globalization.CultureInfo.InvariantCulture);

    public static int Pg17Port => int.Parse(Require("SBK_TEST_PG17_PORT"), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The distinctive superuser password; tests prove it never leaks.</summary>
    public static string Password => Require("SBK_TEST_PG_PASSWORD");

    public static Uri AzuriteBlobEndpoint => new(Require("SBK_TEST_AZURITE_BLOB"));

    public static string AdminConnectionString(string database = "postgres", int? port = null) => new NpgsqlConnectionStringBuilder
    {
        Host = Host,
        Port = port ?? Port,
        Username = "postgres",
        Password = Password,
        Database = database,
        Pooling = false,
    }.ConnectionString;

    /// <summary>The URI form providers hand out, password escaped.</summary>
    public static string ConnectionUri(string database, string? password = null, int? port = null) =>
        $"postgres://postgres:{Uri.EscapeDataString(password ?? Password)}@{Host}:{port ?? Port}/{database}?sslmode=disable";

    public static string AzuriteConnectionString() =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint={AzuriteBlobEndpoint}";

    /// <summary>A store in a new, uniquely named Azurite container (created on the first write).</summary>
    public static AzureBlobObjectStore NewAzuriteStore(AzureBlobStoreOptions? options = null, string? container = null) =>
        new(AzuriteContainer(container ?? "t" + Guid.NewGuid().ToString("N")[..20]), options);

    /// <summary>A client of an Azurite container, independent of sbk's store (tests write and tamper with it directly).</summary>
    public static BlobContainerClient AzuriteContainer(string container)
    {
        var options = new BlobClientOptions();
        options.Retry.MaxRetries = 1;
        return new BlobServiceClient(AzuriteConnectionString(), options).GetBlobContainerClient(container);
    }

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with scripts/test.sh, which starts PostgreSQL and Azurite and sets it.");
}
