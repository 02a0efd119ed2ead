using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Azure;
using ServerlessBackup.Errors;
using ServerlessBackup.Storage.Azure;

namespace ServerlessBackup.Storage;

/// <summary>
/// A store in one Azure Blob Storage container. Large objects are staged as blocks in parallel
/// (at most <see cref="BlobStoreClientOptions.MaxConcurrency"/> blocks in memory) and become
/// visible only when the block list is committed; reads are ranged and prefetched; locks are
/// blob leases renewed in the background.
/// </summary>
public sealed class AzureBlobObjectStore : IObjectStore
{
    private const int LeaseSeconds = 30;
    private readonly BlobStoreClient client;

    /// <summary>Creates the store over a container client.</summary>
    public AzureBlobObjectStore(BlobStoreClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        this.client = client;
    }

    /// <inheritdoc />
    public string Description => $"the Azure Blob container {client.ContainerUri()}";

    /// <inheritdoc />
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) =>
        GuardAsync("create the container", null, () => client.CreateContainerIfNotExistsAsync(cancellationToken));

    /// <inheritdoc />
    public Task<ObjectWriter> OpenWriteAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        return Task.FromResult<ObjectWriter>(new BlockWriter(this, key));
    }

    /// <inheritdoc />
    public Task<bool> PutAsync(string key, ReadOnlyMemory<byte> content, bool overwrite, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        return GuardAsync("write", key, () => client.UploadAsync(key, content, metadata, createOnly: !overwrite, cancellationToken));
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        var info = await GetBlobAsync(key, cancellationToken).ConfigureAwait(false)
                   ?? throw new SbkException(SbkErrorKind.NotFound, $"There is no object '{key}' in {Description}.");
        return new RangeReader(this, info);
    }

    /// <inheritdoc />
    public async Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        var blob = await GetBlobAsync(key, cancellationToken).ConfigureAwait(false);
        return blob is null ? null : ToInfo(blob);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        StoreKeys.ValidatePrefix(prefix);
        string? marker = null;
        do
        {
            var (items, next) = await GuardAsync("list", prefix, () => client.ListBlobsPageAsync(prefix, marker, client.Options.ListPageSize, cancellationToken)).ConfigureAwait(false);
            foreach (var item in items)
            {
                yield return ToInfo(item);
            }

            marker = next;
        }
        while (marker is not null);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        return GuardAsync("delete", key, () => client.DeleteAsync(key, cancellationToken));
    }

    /// <inheritdoc />
    public async Task<IStoreLock?> TryAcquireLockAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        return await GuardAsync("lock", key, async () =>
        {
            string? leaseId;
            try
            {
                leaseId = await client.AcquireLeaseAsync(key, LeaseSeconds, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // The lock blob is made on first use; a racing creator is fine.
                await client.UploadAsync(key, ReadOnlyMemory<byte>.Empty, null, createOnly: true, cancellationToken).ConfigureAwait(false);
                leaseId = await client.AcquireLeaseAsync(key, LeaseSeconds, cancellationToken).ConfigureAwait(false);
            }

            return leaseId is null ? null : (IStoreLock)new Lease(client, key, leaseId);
        }).ConfigureAwait(false);
    }

    private Task<BlobItem?> GetBlobAsync(string key, CancellationToken cancellationToken)
    {
        StoreKeys.Validate(key);
        return GuardAsync("read", key, () => client.GetPropertiesAsync(key, cancellationToken));
    }

    private static ObjectInfo ToInfo(BlobItem blob) => new(blob.Name, blob.Length, blob.LastModified, blob.Metadata);

    /// <summary>Runs a blob call, turning a service failure into an <see cref="SbkException"/> that names what failed.</summary>
    private async Task<T> GuardAsync<T>(string operation, string? key, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RequestFailedException ex)
        {
            throw Failure(operation, key, ex);
        }
    }

    private SbkException Failure(string operation, string? key, RequestFailedException ex)
    {
        var what = key is null ? Description : $"'{key}' in {Description}";
        // 412 on a read: the blob was replaced between its properties and its bytes; reading again gets the new version.
        var transient = ex.Status is 0 or 408 or 412 or 429 or >= 500;
        var hint = ex.Status switch
        {
            0 => "the storage endpoint could not be reached; check the network and the endpoint in the configuration",
            401 or 403 => "the credentials were refused; check the connection string secret, or that the identity has the 'Storage Blob Data Contributor' role on the account",
            404 => "it does not exist",
            412 => "it was replaced while being read; read it again",
            _ => transient ? "this is usually temporary; try again" : "see the error code",
        };
        var code = string.IsNullOrEmpty(ex.ErrorCode) ? string.Empty : $" {ex.ErrorCode}";
        var status = ex.Status == 0 ? "no response" : $"HTTP {ex.Status}{code}";
        return new SbkException(ex.Status == 404 ? SbkErrorKind.NotFound : SbkErrorKind.Failed,
            $"Could not {operation} {what}: {status}; {hint}.", transient);
    }

    /// <summary>Buffers writes into blocks and stages them concurrently; commits the list at the end.</summary>
    private sealed class BlockWriter : ObjectWriter
    {
        private readonly AzureBlobObjectStore store;
        private readonly string key;
        private readonly int blockSize;
        private readonly SemaphoreSlim slots;
        private readonly List<string> blockIds = [];
        private readonly List<Task> staging = [];
        private readonly byte[] writerId = RandomNumberGenerator.GetBytes(8);
        private readonly CancellationTokenSource abort = new();
        private byte[]? current;
        private int filled;
        private bool done;

        public BlockWriter(AzureBlobObjectStore store, string key)
        {
            this.store = store;
            this.key = key;
            blockSize = store.client.Options.BlockSize;
            slots = new SemaphoreSlim(store.client.Options.MaxConcurrency);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(done, this);
            while (!buffer.IsEmpty)
            {
                current ??= ArrayPool<byte>.Shared.Rent(blockSize);
                var take = Math.Min(buffer.Length, blockSize - filled);
                buffer[..take].CopyTo(current.AsMemory(filled));
                filled += take;
                buffer = buffer[take..];
                if (filled == blockSize)
                {
                    await StageCurrentAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        public override async Task<ObjectInfo> CommitAsync(IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(done, this);
            if (filled > 0)
            {
                await StageCurrentAsync(cancellationToken).ConfigureAwait(false);
            }

            await Task.WhenAll(staging).ConfigureAwait(false);
            var created = await store.GuardAsync("commit", key, () => store.client.CommitBlockListAsync(key, blockIds, metadata, createOnly: true, cancellationToken)).ConfigureAwait(false);
            done = true;
            if (!created)
            {
                throw new SbkException(SbkErrorKind.Failed, $"The object '{key}' already exists in {store.Description}; it was not overwritten.");
            }

            return await store.GetInfoAsync(key, cancellationToken).ConfigureAwait(false)
                   ?? throw new SbkException(SbkErrorKind.Failed, $"The object '{key}' was committed but cannot be read back from {store.Description}.", isTransient: true);
        }

        private async Task StageCurrentAsync(CancellationToken cancellationToken)
        {
            // A failed block fails the whole write at the next opportunity.
            var failed = staging.FirstOrDefault(t => t.IsFaulted);
            if (failed is not null)
            {
                await failed.ConfigureAwait(false);
            }

            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            var block = current!;
            var length = filled;
            current = null;
            filled = 0;
            var idBytes = new byte[16];
            writerId.CopyTo(idBytes, 0);
            BinaryPrimitives.WriteInt64BigEndian(idBytes.AsSpan(8), blockIds.Count);
            var id = Convert.ToBase64String(idBytes);
            blockIds.Add(id);
            var token = abort.Token;
            staging.Add(Task.Run(async () =>
            {
                try
                {
                    await store.GuardAsync("upload a block of", key, async () =>
                    {
                        await store.client.StageBlockAsync(key, id, block.AsMemory(0, length), token).ConfigureAwait(false);
                        return true;
                    }).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(block);
                    slots.Release();
                }
            }, CancellationToken.None));
        }

        public override async ValueTask DisposeAsync()
        {
            if (!done)
            {
                // Uncommitted blocks are never visible and the service discards them after a week.
                done = true;
                await abort.CancelAsync().ConfigureAwait(false);
                try
                {
                    await Task.WhenAll(staging).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is SbkException or OperationCanceledException)
                {
                    // Already failing or abandoned; nothing to report twice.
                }
            }

            if (current is not null)
            {
                ArrayPool<byte>.Shared.Return(current);
                current = null;
            }

            abort.Dispose();
            await base.DisposeAsync().ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !done)
            {
                DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>Sequential reads by ranges of one blob version, downloading ahead in parallel.</summary>
    private sealed class RangeReader : Stream
    {
        private readonly AzureBlobObjectStore store;
        private readonly BlobItem blob;
        private readonly int rangeSize;
        private readonly int ahead;
        private readonly Queue<Task<(byte[] Buffer, int Length)>> pending = new();
        private readonly CancellationTokenSource cancel = new();
        private long nextOffset;
        private byte[]? buffer;
        private int bufferOffset;
        private int bufferLength;
        private long position;
        private bool disposed;

        public RangeReader(AzureBlobObjectStore store, BlobItem blob)
        {
            this.store = store;
            this.blob = blob;
            rangeSize = store.client.Options.DownloadRangeSize;
            ahead = Math.Max(1, store.client.Options.MaxConcurrency);
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => blob.Length;

        public override long Position { get => position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
        {
            if (bufferOffset == bufferLength)
            {
                if (buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }

                while (pending.Count < ahead && nextOffset < blob.Length)
                {
                    var offset = nextOffset;
                    var length = (int)Math.Min(rangeSize, blob.Length - offset);
                    nextOffset += length;
                    pending.Enqueue(DownloadAsync(offset, length, cancel.Token));
                }

                if (pending.Count == 0)
                {
                    return 0;
                }

                (buffer, bufferLength) = await pending.Dequeue().WaitAsync(cancellationToken).ConfigureAwait(false);
                bufferOffset = 0;
            }

            var take = Math.Min(destination.Length, bufferLength - bufferOffset);
            buffer.AsSpan(bufferOffset, take).CopyTo(destination.Span);
            bufferOffset += take;
            position += take;
            return take;
        }

        private Task<(byte[] Buffer, int Length)> DownloadAsync(long offset, int length, CancellationToken cancellationToken) => Task.Run(async () =>
        {
            var target = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                var read = await store.GuardAsync("read", blob.Name, () => store.client.DownloadRangeAsync(blob.Name, offset, target.AsMemory(0, length), blob.ETag, cancellationToken)).ConfigureAwait(false);
                if (read != length)
                {
                    throw new SbkException(SbkErrorKind.Failed, $"Reading '{blob.Name}' from {store.Description} returned {read} of {length} bytes at offset {offset}; the blob changed or the connection broke.", isTransient: true);
                }

                return (target, read);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(target);
                throw;
            }
        }, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !disposed)
            {
                disposed = true;
                cancel.Cancel();
                foreach (var task in pending)
                {
                    // Buffers of abandoned downloads go back to the pool when they finish.
                    _ = task.ContinueWith(t => ArrayPool<byte>.Shared.Return(t.Result.Buffer), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                }

                pending.Clear();
                if (buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }

                cancel.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>A blob lease renewed every third of its duration; <see cref="Lost"/> fires if renewal fails.</summary>
    private sealed class Lease : IStoreLock
    {
        private readonly BlobStoreClient client;
        private readonly string key;
        private readonly string leaseId;
        private readonly CancellationTokenSource stop = new();
        private readonly CancellationTokenSource lost = new();
        private readonly Task renewal;

        public Lease(BlobStoreClient client, string key, string leaseId)
        {
            this.client = client;
            this.key = key;
            this.leaseId = leaseId;
            renewal = RenewAsync();
        }

        public CancellationToken Lost => lost.Token;

        private async Task RenewAsync()
        {
            try
            {
                while (true)
                {
                    await Task.Delay(TimeSpan.FromSeconds(LeaseSeconds / 3.0), stop.Token).ConfigureAwait(false);
                    await client.ChangeLeaseAsync(key, leaseId, "renew", stop.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Released.
            }
            catch (Exception)
            {
                await lost.CancelAsync().ConfigureAwait(false);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
            try
            {
                await client.ChangeLeaseAsync(key, leaseId, "release", CancellationToken.None).ConfigureAwait(false);
            }
            catch (RequestFailedException)
            {
                // The lease expires by itself within its duration.
            }

            stop.Dispose();
            lost.Dispose();
        }
    }
}
