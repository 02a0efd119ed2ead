using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using ServerlessBackup.Errors;
using ServerlessBackup.Streams;

namespace ServerlessBackup.Storage;

/// <summary>
/// A store in one Azure Blob Storage container, on the Azure SDK (every authentication mode,
/// the service team's retries). Large objects are staged as blocks in parallel from a bounded
/// pool (at most <see cref="AzureBlobStoreOptions.MaxConcurrency"/> blocks in memory) and become
/// visible only when the block list is committed, create-only; reads are ranged, prefetched and
/// pinned to one version (ETag); locks are blob leases renewed in the background. A container
/// that does not exist yet reads as empty and is created by the first write. Every service
/// failure becomes an <see cref="SbkException"/> that says what failed and what to do.
/// </summary>
public sealed class AzureBlobObjectStore : IObjectStore
{
    private readonly BlobContainerClient container;
    private readonly AzureBlobStoreOptions options;
    private readonly TimeProvider time;

    /// <summary>The store over a container client (made from a connection string, or a URI and a credential).</summary>
    public AzureBlobObjectStore(BlobContainerClient container, AzureBlobStoreOptions? options = null, TimeProvider? time = null)
    {
        var settings = options ?? new AzureBlobStoreOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.LeaseSeconds, 15, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(settings.LeaseSeconds, 60, nameof(options));
        // Blocks and ranges come from a pool of their own, bounded: the shared pool would keep one per thread that ever held one.
        Buffers = ArrayPool<byte>.Create(Math.Max(settings.BlockSize, settings.DownloadRangeSize), 2 * (settings.MaxConcurrency + 2));
        ArgumentNullException.ThrowIfNull(container);
        this.container = container;
        this.options = settings;
        this.time = time ?? TimeProvider.System;
        // Never the query string: a SAS must not reach a message.
        Description = $"the Azure Blob container {container.Uri.GetLeftPart(UriPartial.Path)}";
    }

    /// <summary>Where this store's block and range buffers come from.</summary>
    internal ArrayPool<byte> Buffers { get; }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default) =>
        GuardAsync("create", null, async () => (await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)) is not null);

    /// <inheritdoc />
    public Task<ObjectWriter> OpenWriteAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        return Task.FromResult<ObjectWriter>(new BlockWriter(this, key));
    }

    /// <inheritdoc />
    public async Task<bool> PutAsync(string key, ReadOnlyMemory<byte> content, bool overwrite, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        var blob = container.GetBlobClient(key);
        var upload = new BlobUploadOptions
        {
            Metadata = metadata?.ToDictionary(m => m.Key, m => m.Value),
            Conditions = overwrite ? null : new BlobRequestConditions { IfNoneMatch = ETag.All },
        };
        try
        {
            await WithContainerAsync("write", key, () => blob.UploadAsync(new BinaryData(content), upload, cancellationToken)).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (!overwrite && IsAlreadyThere(ex))
        {
            // Either someone else's object, or ours whose success response was lost and retried: only the bytes can tell.
            return await GuardAsync("read back", key, async () =>
            {
                var existing = await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false);
                return existing.Value.Content.ToMemory().Span.SequenceEqual(content.Span);
            }).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public Task<int> SweepAbandonedWritesAsync(string prefix, TimeSpan olderThan, CancellationToken cancellationToken = default) =>
        Task.FromResult(0); // Blob storage discards uncommitted blocks a week after their last upload.

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        var info = await GetPropertiesAsync(key, cancellationToken).ConfigureAwait(false)
                   ?? throw new SbkException(SbkErrorKind.NotFound, $"There is no object '{key}' in {Description}.");
        return new RangeReader(this, key, info.Value.ContentLength, info.Value.ETag);
    }

    /// <inheritdoc />
    public async Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        var properties = await GetPropertiesAsync(key, cancellationToken).ConfigureAwait(false);
        return properties is not { } p
            ? null
            : new ObjectInfo(key, p.Value.ContentLength, p.Value.LastModified, Normalize(p.Value.Metadata))
            {
                ImmutableUntil = p.Value.ImmutabilityPolicy?.ExpiresOn,
                LegalHold = p.Value.HasLegalHold,
            };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        StoreKeys.ValidatePrefix(prefix);
        var pages = container.GetBlobsAsync(BlobTraits.Metadata | BlobTraits.ImmutabilityPolicy | BlobTraits.LegalHold, BlobStates.None, prefix, cancellationToken).AsPages(pageSizeHint: options.ListPageSize).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                Page<BlobItem>? page;
                try
                {
                    page = await pages.MoveNextAsync().ConfigureAwait(false) ? pages.Current : null;
                }
                catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.ContainerNotFound)
                {
                    // Nothing written yet: an empty store, not an error (a team that sets up its schedule first gets its first backup).
                    yield break;
                }
                catch (Exception ex) when (Translate("list", prefix, ex) is { } failure)
                {
                    throw failure;
                }

                if (page is null)
                {
                    yield break;
                }

                foreach (var item in page.Values)
                {
                    yield return new ObjectInfo(item.Name, item.Properties.ContentLength ?? 0, item.Properties.LastModified ?? DateTimeOffset.MinValue, Normalize(item.Metadata))
                    {
                        ImmutableUntil = item.Properties.ImmutabilityPolicy?.ExpiresOn,
                        LegalHold = item.Properties.HasLegalHold,
                    };
                }
            }
        }
        finally
        {
            await pages.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        return GuardAsync("delete", key, async () =>
        {
            try
            {
                return (await container.GetBlobClient(key).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            }
            catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.ContainerNotFound)
            {
                return false;
            }
        });
    }

    /// <inheritdoc />
    public async Task<IStoreLock?> TryAcquireLockAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        var lease = container.GetBlobClient(key).GetBlobLeaseClient();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await lease.AcquireAsync(TimeSpan.FromSeconds(options.LeaseSeconds), cancellationToken: cancellationToken).ConfigureAwait(false);
                return new Lease(lease, TimeSpan.FromSeconds(options.LeaseSeconds / 3.0));
            }
            catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.LeaseAlreadyPresent)
            {
                return null;
            }
            catch (RequestFailedException ex) when (IsMissingBlob(ex) && attempt == 0)
            {
                // The lock blob (and the container) are made on first use; a racing creator is fine.
                await PutAsync(key, ReadOnlyMemory<byte>.Empty, overwrite: false, null, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (Translate("lock", key, ex) is { } failure)
            {
                throw failure;
            }
        }
    }

    /// <inheritdoc />
    public async Task<bool> TrySetLegalHoldAsync(string key, bool hold, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        try
        {
            await container.GetBlobClient(key).SetLegalHoldAsync(hold, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 400 or 404 or 409 or 501 && !IsMissingBlob(ex))
        {
            // No version-level immutability on this container (or an emulator without legal holds, answering 501): the caller's own records protect the object.
            return false;
        }
        catch (Exception ex) when (Translate("set the legal hold of", key, ex) is { } failure)
        {
            throw failure;
        }
    }

    private Task<Response<BlobProperties>?> GetPropertiesAsync(string key, CancellationToken cancellationToken)
    {
        StoreKeys.Validate(key);
        return GuardAsync("read", key, async () =>
        {
            try
            {
                return (Response<BlobProperties>?)await container.GetBlobClient(key).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                return null;
            }
        });
    }

    /// <summary>
    /// Runs a write; when the container does not exist yet, creates it and runs the write again.
    /// A 409 or 412 (the object exists, a condition failed) is left to the caller, which expects it.
    /// </summary>
    private async Task WithContainerAsync(string operation, string key, Func<Task> write)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await write().ConfigureAwait(false);
                return;
            }
            catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.ContainerNotFound && attempt == 0)
            {
                await EnsureCreatedAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not RequestFailedException { Status: 409 or 412 } && Translate(operation, key, ex) is { } failure)
            {
                throw failure;
            }
        }
    }

    private static bool IsAlreadyThere(RequestFailedException ex) =>
        ex.Status is 409 or 412 && ex.ErrorCode != BlobErrorCode.ContainerNotFound && ex.ErrorCode != BlobErrorCode.LeaseIdMissing;

    private static bool IsMissingBlob(RequestFailedException ex) => ex.ErrorCode == BlobErrorCode.BlobNotFound || ex.ErrorCode == BlobErrorCode.ContainerNotFound;

    private static Dictionary<string, string> Normalize(IDictionary<string, string>? metadata) =>
        metadata?.ToDictionary(m => m.Key.ToLowerInvariant(), m => m.Value, StringComparer.Ordinal) ?? new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Runs a blob call, turning a service or sign-in failure into an <see cref="SbkException"/> that names what failed and the next step.</summary>
    private async Task<T> GuardAsync<T>(string operation, string? key, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (Translate(operation, key, ex) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>The engine's error for a failure of the Azure SDK, or null when it is none of the SDK's.</summary>
    internal SbkException? Translate(string operation, string? key, Exception ex)
    {
        var what = key is null ? Description : $"'{key}' in {Description}";
        switch (ex)
        {
            case AuthenticationFailedException or CredentialUnavailableException:
                return new SbkException(SbkErrorKind.Configuration,
                    $"Could not {operation} {what}: signing in to Azure failed ({SecretRedactor(ex.Message)}). In Azure, check the app's managed identity (Secrets:ManagedIdentityClientId); on a workstation, run 'az login'.", isTransient: false, ex);
            case AggregateException { InnerExceptions.Count: > 0 } many when many.InnerExceptions[^1] is RequestFailedException or HttpRequestException:
                // The SDK's retries gave up: the last attempt's failure is the one to explain.
                return Translate(operation, key, many.InnerExceptions[^1]);
            case RequestFailedException { Status: 401 or 403 } refused when options.SignsWithConnectionString && refused.ErrorCode != "KeyBasedAuthenticationNotPermitted":
                return new SbkException(SbkErrorKind.Configuration,
                    $"Could not {operation} {what}: HTTP {refused.Status} {refused.ErrorCode}; the storage credentials were refused or do not allow this: check the connection string in the secret Store:ConnectionStringSecret names (a rotated account key? an expired SAS, or one without read, write, delete and list?).", isTransient: false, ex);
            case RequestFailedException rfe:
                var code = string.IsNullOrEmpty(rfe.ErrorCode) ? string.Empty : $" {rfe.ErrorCode}";
                var status = rfe.Status == 0 ? "no response" : $"HTTP {rfe.Status}{code}";
                var (kind, transient, hint) = (rfe.Status, rfe.ErrorCode) switch
                {
                    (0, _) => (SbkErrorKind.Failed, true, "the storage endpoint could not be reached; check the network and the endpoint in the configuration, then try again"),
                    (401, _) or (403, "AuthenticationFailed") => (SbkErrorKind.Configuration, false, "the identity's token was refused; sign in again (az login) or check the app's managed identity"),
                    (403, "AuthorizationPermissionMismatch" or "AuthorizationFailure") => (SbkErrorKind.Configuration, false, "the identity signed in but may not do this; give it 'Storage Blob Data Contributor' on the account or the container"),
                    (403, "KeyBasedAuthenticationNotPermitted") => (SbkErrorKind.Configuration, false, "the account refuses shared keys; use Store:ServiceUri with an identity that has 'Storage Blob Data Contributor'"),
                    (403, _) => (SbkErrorKind.Configuration, false, "access was refused; check the identity's role on the account and the account's network rules"),
                    (404, _) => (SbkErrorKind.NotFound, false, "it does not exist"),
                    (409, "BlobImmutableDueToPolicy" or "BlobImmutableDueToLegalHold") => (SbkErrorKind.Failed, false, "it is immutable (a time-based policy or a legal hold); it can be deleted once that ends"),
                    (412, _) => (SbkErrorKind.Failed, true, "it was replaced while being read; read it again"),
                    (408 or 429 or 500 or 502 or 503 or 504, _) => (SbkErrorKind.Failed, true, "the service is busy or throttling; this is temporary, try again"),
                    _ => (SbkErrorKind.Failed, rfe.Status >= 500, "see the error code"),
                };
                return new SbkException(kind, $"Could not {operation} {what}: {status}; {hint}.", transient, ex);
            case TaskCanceledException or OperationCanceledException:
                return null;
            case HttpRequestException or IOException:
                return new SbkException(SbkErrorKind.Failed, $"Could not {operation} {what}: {ex.Message}; check the network, then try again.", isTransient: true, ex);
            default:
                return null;
        }

        static string SecretRedactor(string message) => Diagnostics.SecretRedactor.Redact(message.Split('\n')[0]);
    }

    /// <summary>Buffers writes into blocks and stages them concurrently; commits the list at the end, create-only.</summary>
    private sealed class BlockWriter : ObjectWriter
    {
        private readonly AzureBlobObjectStore store;
        private readonly BlockBlobClient blob;
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
            blob = store.container.GetBlockBlobClient(key);
            blockSize = store.options.BlockSize;
            slots = new SemaphoreSlim(store.options.MaxConcurrency);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(done, this);
            while (!buffer.IsEmpty)
            {
                current ??= store.Buffers.Rent(blockSize);
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
            var commit = new CommitBlockListOptions
            {
                Metadata = metadata?.ToDictionary(m => m.Key, m => m.Value),
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            };
            if (store.options.ImmutabilityDays > 0)
            {
                commit.ImmutabilityPolicy = new BlobImmutabilityPolicy { ExpiresOn = store.time.GetUtcNow().AddDays(store.options.ImmutabilityDays), PolicyMode = BlobImmutabilityPolicyMode.Unlocked };
            }

            try
            {
                await store.WithContainerAsync("commit", key, () => blob.CommitBlockListAsync(blockIds, commit, cancellationToken)).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (IsAlreadyThere(ex))
            {
                // Ours if its committed blocks are exactly ours (the success response was lost and retried); else someone else's.
                var committed = await store.GuardAsync("read back", key, async () => (await blob.GetBlockListAsync(BlockListTypes.Committed, cancellationToken: cancellationToken).ConfigureAwait(false)).Value.CommittedBlocks.Select(b => b.Name).ToList()).ConfigureAwait(false);
                if (!committed.SequenceEqual(blockIds))
                {
                    done = true;
                    throw new SbkException(SbkErrorKind.Failed, $"The object '{key}' already exists in {store.Description}; it was not overwritten.");
                }
            }

            done = true;
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
                    using var content = new MemoryStream(block, 0, length, writable: false);
                    await store.WithContainerAsync("upload a block of", key, () => blob.StageBlockAsync(id, content, cancellationToken: token)).ConfigureAwait(false);
                }
                finally
                {
                    store.Buffers.Return(block);
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
                catch (Exception ex) when (ex is SbkException or OperationCanceledException or RequestFailedException)
                {
                    // Already failing or abandoned; nothing to report twice.
                }
            }

            if (current is not null)
            {
                store.Buffers.Return(current);
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

    /// <summary>Sequential reads by ranges of one blob version (its ETag), downloading ahead in parallel.</summary>
    private sealed class RangeReader : ReadOnlyStream
    {
        private readonly AzureBlobObjectStore store;
        private readonly BlobClient blob;
        private readonly string key;
        private readonly long length;
        private readonly ETag etag;
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

        public RangeReader(AzureBlobObjectStore store, string key, long length, ETag etag)
        {
            this.store = store;
            this.key = key;
            this.length = length;
            this.etag = etag;
            blob = store.container.GetBlobClient(key);
            rangeSize = store.options.DownloadRangeSize;
            ahead = Math.Max(1, store.options.MaxConcurrency);
        }

        public override long Length => length;

        public override long Position { get => position; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
        {
            if (bufferOffset == bufferLength)
            {
                if (buffer is not null)
                {
                    store.Buffers.Return(buffer);
                    buffer = null;
                }

                while (pending.Count < ahead && nextOffset < length)
                {
                    var offset = nextOffset;
                    var size = (int)Math.Min(rangeSize, length - offset);
                    nextOffset += size;
                    pending.Enqueue(DownloadAsync(offset, size, cancel.Token));
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

        private Task<(byte[] Buffer, int Length)> DownloadAsync(long offset, int size, CancellationToken cancellationToken) => Task.Run(async () =>
        {
            var target = store.Buffers.Rent(size);
            try
            {
                var read = await store.GuardAsync("read", key, async () =>
                {
                    var download = new BlobDownloadOptions { Range = new HttpRange(offset, size), Conditions = new BlobRequestConditions { IfMatch = etag } };
                    var response = await blob.DownloadStreamingAsync(download, cancellationToken).ConfigureAwait(false);
                    using var result = response.Value;
                    var total = 0;
                    int n;
                    while (total < size && (n = await result.Content.ReadAsync(target.AsMemory(total, size - total), cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        total += n;
                    }

                    return total;
                }).ConfigureAwait(false);
                if (read != size)
                {
                    throw new SbkException(SbkErrorKind.Failed, $"Reading '{key}' from {store.Description} returned {read} of {size} bytes at offset {offset}; the blob changed or the connection broke.", isTransient: true);
                }

                return (target, read);
            }
            catch
            {
                store.Buffers.Return(target);
                throw;
            }
        }, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing && !disposed)
            {
                disposed = true;
                cancel.Cancel();
                foreach (var task in pending)
                {
                    // Buffers of abandoned downloads go back to the pool when they finish.
                    _ = task.ContinueWith(t => store.Buffers.Return(t.Result.Buffer), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                }

                pending.Clear();
                if (buffer is not null)
                {
                    store.Buffers.Return(buffer);
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
        private readonly BlobLeaseClient lease;
        private readonly CancellationTokenSource stop = new();
        private readonly CancellationTokenSource lost = new();
        private readonly TimeSpan renewEvery;
        private readonly Task renewal;

        public Lease(BlobLeaseClient lease, TimeSpan renewEvery)
        {
            this.lease = lease;
            this.renewEvery = renewEvery;
            renewal = RenewAsync();
        }

        public CancellationToken Lost => lost.Token;

        private async Task RenewAsync()
        {
            try
            {
                while (true)
                {
                    await Task.Delay(renewEvery, stop.Token).ConfigureAwait(false);
                    await lease.RenewAsync(cancellationToken: stop.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Released.
            }
#pragma warning disable CA1031 // Any failure to renew means the lease can no longer be guaranteed: the work under it must stop.
            catch (Exception)
#pragma warning restore CA1031
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
                await lease.ReleaseAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
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
