using System.Security.Cryptography;
using ServerlessBackup.Errors;
using ServerlessBackup.Storage;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>The contract of <see cref="IObjectStore"/>; every store implementation runs all of it.</summary>
public abstract class StoreConformanceTests
{
    protected abstract IObjectStore CreateStore();

    private async Task<IObjectStore> StoreAsync()
    {
        var store = CreateStore();
        await store.EnsureCreatedAsync();
        await store.EnsureCreatedAsync(); // idempotent
        return store;
    }

    [Fact]
    public async Task A_streamed_object_is_invisible_until_committed_then_reads_back_whole()
    {
        var store = await StoreAsync();
        var data = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 123);
        await using (var writer = await store.OpenWriteAsync("db/x/archive"))
        {
            for (var i = 0; i < data.Length; i += 300_000)
            {
                await writer.WriteAsync(data.AsMemory(i, Math.Min(300_000, data.Length - i)));
            }

            Assert.Null(await store.GetInfoAsync("db/x/archive"));
            Assert.Empty(await ToListAsync(store.ListAsync("db/")));
            var info = await writer.CommitAsync(new Dictionary<string, string> { ["role"] = "archive" });
            Assert.Equal(data.Length, info.Length);
        }

        var read = await ReadAllAsync(store, "db/x/archive");
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(read));
        Assert.Equal("archive", (await store.GetInfoAsync("db/x/archive"))!.Metadata["role"]);
    }

    [Fact]
    public async Task An_abandoned_write_leaves_nothing_behind()
    {
        var store = await StoreAsync();
        await using (var writer = await store.OpenWriteAsync("db/y/archive"))
        {
            await writer.WriteAsync(RandomNumberGenerator.GetBytes(3 * 1024 * 1024));
        }

        Assert.Null(await store.GetInfoAsync("db/y/archive"));
        Assert.Empty(await ToListAsync(store.ListAsync("")));
    }

    [Fact]
    public async Task Create_only_put_never_overwrites()
    {
        var store = await StoreAsync();
        Assert.True(await store.PutAsync("db/m.json", "first"u8.ToArray(), overwrite: false, new Dictionary<string, string> { ["label"] = "one" }));
        Assert.False(await store.PutAsync("db/m.json", "second"u8.ToArray(), overwrite: false, new Dictionary<string, string> { ["label"] = "two" }));
        Assert.Equal("first"u8.ToArray(), await ReadAllAsync(store, "db/m.json"));
        Assert.Equal("one", (await store.GetInfoAsync("db/m.json"))!.Metadata["label"]);
        Assert.True(await store.PutAsync("db/m.json", "third"u8.ToArray(), overwrite: true));
        Assert.Equal("third"u8.ToArray(), await ReadAllAsync(store, "db/m.json"));
    }

    [Fact]
    public async Task Committing_a_stream_onto_an_existing_object_fails_and_keeps_the_original()
    {
        var store = await StoreAsync();
        await store.PutAsync("db/a", "original"u8.ToArray(), overwrite: false);
        await using var writer = await store.OpenWriteAsync("db/a");
        await writer.WriteAsync("replacement"u8.ToArray());
        await Assert.ThrowsAsync<SbkException>(() => writer.CommitAsync());
        Assert.Equal("original"u8.ToArray(), await ReadAllAsync(store, "db/a"));
    }

    [Fact]
    public async Task Listing_is_by_prefix_in_ordinal_order_across_pages()
    {
        var store = await StoreAsync();
        var keys = Enumerable.Range(0, 7).Select(i => $"app/2026010{i}T000000Z-aaaaaa/manifest.json").Append("apple/x").Append("other/y").ToList();
        foreach (var key in keys.AsEnumerable().Reverse())
        {
            await store.PutAsync(key, "{}"u8.ToArray(), overwrite: false);
        }

        var listed = (await ToListAsync(store.ListAsync("app/"))).Select(o => o.Key).ToList();
        Assert.Equal(keys.Take(7), listed);
        Assert.Equal(keys.Order(StringComparer.Ordinal), (await ToListAsync(store.ListAsync(""))).Select(o => o.Key));
    }

    [Fact]
    public async Task Reading_a_missing_object_is_not_found_and_delete_is_idempotent()
    {
        var store = await StoreAsync();
        var ex = await Assert.ThrowsAsync<SbkException>(() => store.OpenReadAsync("db/none"));
        Assert.Equal(SbkErrorKind.NotFound, ex.Kind);
        await store.PutAsync("db/z", "z"u8.ToArray(), overwrite: false);
        Assert.True(await store.DeleteAsync("db/z"));
        Assert.False(await store.DeleteAsync("db/z"));
        Assert.Null(await store.GetInfoAsync("db/z"));
    }

    [Fact]
    public async Task A_lock_has_one_holder_at_a_time_and_is_free_again_after_release()
    {
        var store = await StoreAsync();
        var first = await store.TryAcquireLockAsync("db/lock");
        Assert.NotNull(first);
        Assert.Null(await store.TryAcquireLockAsync("db/lock"));
        await first.DisposeAsync();
        var second = await store.TryAcquireLockAsync("db/lock");
        Assert.NotNull(second);
        await second.DisposeAsync();
    }

    [Fact]
    public async Task A_store_whose_container_does_not_exist_yet_reads_as_empty_and_its_first_write_creates_it()
    {
        var store = CreateStore(); // never created

        Assert.Empty(await ToListAsync(store.ListAsync("")));
        Assert.Empty(await ToListAsync(store.ListAsync("db/")));
        Assert.Null(await store.GetInfoAsync("db/a"));
        Assert.Equal(SbkErrorKind.NotFound, (await Assert.ThrowsAsync<SbkException>(() => store.OpenReadAsync("db/a"))).Kind);
        Assert.False(await store.DeleteAsync("db/a"));
        Assert.True(await store.PutAsync("db/a", "a"u8.ToArray(), overwrite: false));
        Assert.Equal("a"u8.ToArray(), await ReadAllAsync(store, "db/a"));
    }

    [Fact]
    public async Task A_lock_on_a_store_whose_container_does_not_exist_yet_is_granted()
    {
        var store = CreateStore(); // never created
        await using var held = await store.TryAcquireLockAsync("db/lock");
        Assert.NotNull(held);
        Assert.Null(await store.TryAcquireLockAsync("db/lock"));
    }

    [Fact]
    public async Task A_create_only_put_repeated_with_the_same_bytes_succeeds_as_the_retry_of_a_lost_answer_would()
    {
        var store = await StoreAsync();
        Assert.True(await store.PutAsync("db/m.json", "same"u8.ToArray(), overwrite: false));
        Assert.True(await store.PutAsync("db/m.json", "same"u8.ToArray(), overwrite: false));
        Assert.False(await store.PutAsync("db/m.json", "other"u8.ToArray(), overwrite: false));
        Assert.Equal("same"u8.ToArray(), await ReadAllAsync(store, "db/m.json"));
    }

    [Fact]
    public async Task A_store_without_legal_holds_says_so_and_protects_nothing_it_cannot()
    {
        var store = await StoreAsync();
        await store.PutAsync("db/held", "x"u8.ToArray(), overwrite: false);

        // Neither a directory nor Azurite has legal holds (Azurite does not implement immutability policies, legal holds or
        // versioning): the store must say so rather than pretend. Against Azure, a container with version-level immutability holds.
        Assert.False(await store.TrySetLegalHoldAsync("db/held", true));
        var info = await store.GetInfoAsync("db/held");
        Assert.False(info!.LegalHold);
        Assert.False(info.IsProtectedAt(DateTimeOffset.UtcNow));
        Assert.True(await store.DeleteAsync("db/held"));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("/abs")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("sp ace")]
    [InlineData("a\\b")]
    public async Task Keys_that_could_escape_or_confuse_are_refused(string key)
    {
        var store = await StoreAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync(key, "x"u8.ToArray(), overwrite: true));
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }

    private static async Task<byte[]> ReadAllAsync(IObjectStore store, string key)
    {
        await using var stream = await store.OpenReadAsync(key);
        using var memory = new MemoryStream();
        await stream.CopyToAsync(memory);
        return memory.ToArray();
    }
}

public sealed class FileSystemStoreConformanceTests : StoreConformanceTests, IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("sbk-store-").FullName;

    protected override IObjectStore CreateStore() => new FileSystemObjectStore(directory);

    public void Dispose() => Directory.Delete(directory, recursive: true);
}

public sealed class AzuriteStoreConformanceTests : StoreConformanceTests
{
    // Small blocks, ranges and pages so that every code path (parallel staging, ranged reads, continuation) runs.
    protected override IObjectStore CreateStore() => TestServers.NewAzuriteStore(new AzureBlobStoreOptions
    {
        BlockSize = 1024 * 1024,
        DownloadRangeSize = 700 * 1024,
        ListPageSize = 2,
        MaxConcurrency = 3,
    });
}
