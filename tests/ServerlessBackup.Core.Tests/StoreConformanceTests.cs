using System.Security.Cryptography;
using Azure.Storage.Blobs.Specialized;
using ServerlessBackup.Errors;
using ServerlessBackup.Storage;
using ServerlessBackup.Tests.Infrastructure;

namespace ServerlessBackup.Tests;

/// <summary>The contract of <see cref="IObjectStore"/>; every store implementation runs all of it.</summary>
public abstract class StoreConformanceTests
{
    protected abstract IObjectStore CreateStore();

    /// <summary>Holds the lock on <paramref name="key"/> of the last store created as another process would, until disposed.</summary>
    protected abstract Task<IAsyncDisposable> HoldElsewhereAsync(string key);

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
    public async Task A_lock_held_by_another_process_is_refused_until_that_process_lets_go()
    {
        var store = await StoreAsync();
        await using (await HoldElsewhereAsync("db/lock"))
        {
            Assert.Null(await store.TryAcquireLockAsync("db/lock"));
        }

        await using var mine = await store.TryAcquireLockAsync("db/lock");
        Assert.NotNull(mine);
        Assert.False(mine.Lost.IsCancellationRequested);
    }

    [Fact]
    public async Task Cancelled_calls_throw_cancellation_and_a_cancelled_streamed_write_leaves_nothing()
    {
        var store = await StoreAsync();
        await store.PutAsync("db/there", "x"u8.ToArray(), overwrite: false);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.PutAsync("db/new", "x"u8.ToArray(), overwrite: false, cancellationToken: cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.OpenReadAsync("db/there", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.TryAcquireLockAsync("db/lock", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.DeleteAsync("db/there", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in store.ListAsync("db/", cancelled.Token))
            {
            }
        });

        // Ctrl+C in the middle of an upload: the write stops, and nothing of it is ever visible.
        using var midway = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await using var writer = await store.OpenWriteAsync("db/cut/archive", midway.Token);
            await writer.WriteAsync(RandomNumberGenerator.GetBytes(2 * 1024 * 1024), midway.Token);
            await midway.CancelAsync();
            await writer.WriteAsync(RandomNumberGenerator.GetBytes(2 * 1024 * 1024), midway.Token);
            await writer.CommitAsync(null, midway.Token);
        });

        Assert.Null(await store.GetInfoAsync("db/cut/archive"));
        Assert.Null(await store.GetInfoAsync("db/new"));
        Assert.Equal(["db/there"], (await ToListAsync(store.ListAsync(""))).Select(i => i.Key));
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

    /// <summary>A real other process (util-linux flock, which keeps the lock to itself) holds the lock file; when it dies, the OS lets go.</summary>
    protected override async Task<IAsyncDisposable> HoldElsewhereAsync(string key)
    {
        var path = Path.Combine(directory, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var holder = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("flock", ["--exclusive", "--close", path, "-c", "echo held; exec sleep 60"]) { RedirectStandardOutput = true })!;
        Assert.Equal("held", await holder.StandardOutput.ReadLineAsync());
        return new Holder(holder);
    }

    [Fact]
    public async Task A_lock_is_free_at_once_when_its_holder_is_killed()
    {
        var store = CreateStore();
        await using (var holder = await HoldElsewhereAsync("db/lock"))
        {
            Assert.Null(await store.TryAcquireLockAsync("db/lock"));
            ((Holder)holder).Kill();
            await using var mine = await store.TryAcquireLockAsync("db/lock");
            Assert.NotNull(mine);
        }
    }

    private sealed class Holder(System.Diagnostics.Process process) : IAsyncDisposable
    {
        public void Kill()
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        public ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                Kill();
            }

            process.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}

public sealed class AzuriteStoreConformanceTests : StoreConformanceTests
{
    private string container = "";

    // Small blocks, ranges and pages so that every code path (parallel staging, ranged reads, continuation) runs; short leases.
    protected override IObjectStore CreateStore()
    {
        container = "t" + Guid.NewGuid().ToString("N")[..20];
        return TestServers.NewAzuriteStore(Options, container);
    }

    private static AzureBlobStoreOptions Options => new()
    {
        BlockSize = 1024 * 1024,
        DownloadRangeSize = 700 * 1024,
        ListPageSize = 2,
        MaxConcurrency = 3,
        LeaseSeconds = 15,
    };

    /// <summary>Another instance's client takes the lease (a lease is the service's, whichever process asks).</summary>
    protected override async Task<IAsyncDisposable> HoldElsewhereAsync(string key)
    {
        var other = TestServers.NewAzuriteStore(Options, container);
        return (await other.TryAcquireLockAsync(key))!;
    }

    [Fact]
    public async Task A_lock_whose_lease_is_broken_by_someone_else_is_reported_lost_and_can_be_taken_by_another()
    {
        var store = CreateStore();
        await using var mine = await store.TryAcquireLockAsync("db/lock");
        Assert.NotNull(mine);
        await TestServers.AzuriteContainer(container).GetBlobClient("db/lock").GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);

        // The holder learns it at its next renewal (a third of the lease), and work under the lock stops.
        var lost = new TaskCompletionSource();
        using var registration = mine.Lost.Register(() => lost.TrySetResult());
        Assert.Same(lost.Task, await Task.WhenAny(lost.Task, Task.Delay(TimeSpan.FromSeconds(20))));
        await using var theirs = await TestServers.NewAzuriteStore(Options, container).TryAcquireLockAsync("db/lock");
        Assert.NotNull(theirs);
    }

    [Fact]
    public void A_lease_outside_Azures_bounds_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TestServers.NewAzuriteStore(Options with { LeaseSeconds = 10 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => TestServers.NewAzuriteStore(Options with { LeaseSeconds = 61 }));
    }
}
