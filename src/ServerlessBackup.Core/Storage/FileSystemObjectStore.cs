using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Storage;

/// <summary>
/// A store in a local directory: one file per object, metadata in a <c>.sbkmeta</c> side file.
/// Writes go to a <c>.partial-*</c> file that is fsynced and renamed into place on commit, so a
/// crash never leaves a partial object under its real name. Locks are OS file locks (flock),
/// released by the kernel if the process dies.
/// </summary>
public sealed class FileSystemObjectStore : IObjectStore
{
    private const string MetadataSuffix = ".sbkmeta";
    private static readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo<Dictionary<string, string>> MetadataJson = SbkJsonContext.Default.DictionaryStringString;
    private const string PartialMarker = ".partial-";
    private readonly string root;

    /// <summary>Creates a store rooted at <paramref name="rootDirectory"/>.</summary>
    public FileSystemObjectStore(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootDirectory);
        root = Path.GetFullPath(rootDirectory);
    }

    /// <inheritdoc />
    public string Description => $"the local directory {root}";

    /// <inheritdoc />
    public Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(root);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<ObjectWriter> OpenWriteAsync(string key, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + PartialMarker + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        return Task.FromResult<ObjectWriter>(new FileObjectWriter(this, key, path, temporary, stream));
    }

    /// <inheritdoc />
    public async Task<bool> PutAsync(string key, ReadOnlyMemory<byte> content, bool overwrite, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = PathOf(key);
        if (!overwrite && File.Exists(path))
        {
            return await SameBytesAsync(path, content, cancellationToken).ConfigureAwait(false);
        }

        await using var writer = (FileObjectWriter)await OpenWriteAsync(key, cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        return await writer.CommitCoreAsync(metadata, overwrite, cancellationToken).ConfigureAwait(false) is not null
            || await SameBytesAsync(path, content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A create-only write of bytes already there is the same write done again (a retry): it succeeded.</summary>
    private static async Task<bool> SameBytesAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        try
        {
            return new FileInfo(path).Length == content.Length && (await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false)).AsSpan().SequenceEqual(content.Span);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = PathOf(key);
        try
        {
            return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SbkException(SbkErrorKind.NotFound, $"There is no object '{key}' in {Description}.");
        }
    }

    /// <inheritdoc />
    public async Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var file = new FileInfo(PathOf(key));
        return file.Exists ? await InfoAsync(key, file, cancellationToken).ConfigureAwait(false) : null;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        StoreKeys.ValidatePrefix(prefix);
        // Start from the deepest directory the prefix names; filter the rest by string.
        var slash = prefix.LastIndexOf('/');
        var start = slash < 0 ? root : Path.Combine(root, prefix[..slash]);
        if (!Directory.Exists(start))
        {
            yield break;
        }

        var keys = new List<(string Key, FileInfo File)>();
        foreach (var file in new DirectoryInfo(start).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            if (file.Name.EndsWith(MetadataSuffix, StringComparison.Ordinal) || file.Name.Contains(PartialMarker, StringComparison.Ordinal))
            {
                continue;
            }

            var key = Path.GetRelativePath(root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                keys.Add((key, file));
            }
        }

        keys.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var (key, file) in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            file.Refresh();
            if (file.Exists)
            {
                yield return await InfoAsync(key, file, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public Task<int> SweepAbandonedWritesAsync(string prefix, TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        StoreKeys.ValidatePrefix(prefix);
        var slash = prefix.LastIndexOf('/');
        var start = slash < 0 ? root : Path.Combine(root, prefix[..slash]);
        var swept = 0;
        if (!Directory.Exists(start))
        {
            return Task.FromResult(0);
        }

        var cutoff = DateTime.UtcNow - olderThan;
        foreach (var file in new DirectoryInfo(start).EnumerateFiles("*" + PartialMarker + "*", SearchOption.AllDirectories))
        {
            var key = Path.GetRelativePath(root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(prefix, StringComparison.Ordinal) && file.LastWriteTimeUtc < cutoff)
            {
                try
                {
                    file.Delete();
                    swept++;
                }
                catch (IOException)
                {
                    // Gone already, or still open by its writer: the next sweep looks again.
                }
            }
        }

        return Task.FromResult(swept);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = PathOf(key);
        var existed = File.Exists(path);
        if (Directory.Exists(Path.GetDirectoryName(path)))
        {
            File.Delete(path);
            File.Delete(path + MetadataSuffix);
        }

        return Task.FromResult(existed);
    }

    /// <inheritdoc />
    public Task<IStoreLock?> TryAcquireLockAsync(string key, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            // FileShare.None takes an exclusive flock on Unix: other processes are refused until we close it or die.
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return Task.FromResult<IStoreLock?>(new FileLock(stream));
        }
        catch (IOException)
        {
            return Task.FromResult<IStoreLock?>(null);
        }
    }

    /// <inheritdoc />
    /// <remarks>A directory has no legal holds: always false.</remarks>
    public Task<bool> TrySetLegalHoldAsync(string key, bool hold, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        return Task.FromResult(false);
    }

    private string PathOf(string key)
    {
        StoreKeys.Validate(key);
        if (key.EndsWith(MetadataSuffix, StringComparison.Ordinal) || key.Contains(PartialMarker, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The key '{key}' uses a name the filesystem store reserves.", nameof(key));
        }

        return Path.Combine(root, key.Replace('/', Path.DirectorySeparatorChar));
    }

    private static async Task<ObjectInfo> InfoAsync(string key, FileInfo file, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<string, string> metadata = new Dictionary<string, string>();
        var side = file.FullName + MetadataSuffix;
        if (File.Exists(side))
        {
            try
            {
                await using var stream = File.OpenRead(side);
                metadata = await JsonSerializer.DeserializeAsync(stream, MetadataJson, cancellationToken).ConfigureAwait(false)
                           ?? new Dictionary<string, string>();
            }
            catch (JsonException)
            {
                // Damaged or emptied: the object reads as having no metadata, and whoever lists it falls back on what authenticates.
            }
        }

        return new ObjectInfo(key, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero), metadata);
    }

    private sealed class FileObjectWriter(FileSystemObjectStore store, string key, string path, string temporary, FileStream stream) : ObjectWriter
    {
        private bool done;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(done, this);
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await stream.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex) when (DiskFull.Is(ex))
            {
                throw Full(ex);
            }
        }

        /// <summary>A full disk, said of the store and the object rather than of the hidden partial file.</summary>
        private SbkException Full(IOException ex) => new(SbkErrorKind.Failed,
            $"The store, {store.Description}, is full: there was no room left to write '{key}', and nothing of it was kept. Free space there, or point Store:Path at a larger disk.", isTransient: false, ex);

        public override async Task<ObjectInfo> CommitAsync(IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default) =>
            await CommitCoreAsync(metadata, overwrite: false, cancellationToken).ConfigureAwait(false)
            ?? throw new SbkException(SbkErrorKind.Failed, $"The object '{key}' already exists in {store.Description}; it was not overwritten.");

        internal async Task<ObjectInfo?> CommitCoreAsync(IReadOnlyDictionary<string, string>? metadata, bool overwrite, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(done, this);
            try
            {
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            catch (IOException ex) when (DiskFull.Is(ex))
            {
                throw Full(ex);
            }

            await stream.DisposeAsync().ConfigureAwait(false);
            try
            {
                if (overwrite)
                {
                    File.Move(temporary, path, overwrite: true);
                }
                else
                {
                    CreateOnlyRename(temporary, path);
                }
            }
            catch (IOException) when (!overwrite && File.Exists(path))
            {
                File.Delete(temporary);
                done = true;
                return null;
            }

            done = true;
            // Written after the object so that a refused create-only commit never touches the existing object's metadata.
            if (metadata is { Count: > 0 })
            {
                await File.WriteAllBytesAsync(path + MetadataSuffix, JsonSerializer.SerializeToUtf8Bytes(metadata, MetadataJson), cancellationToken).ConfigureAwait(false);
            }

            return await InfoAsync(key, new FileInfo(path), cancellationToken).ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !done)
            {
                done = true;
                stream.Dispose();
                File.Delete(temporary);
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            if (!done)
            {
                done = true;
                await stream.DisposeAsync().ConfigureAwait(false);
                File.Delete(temporary);
            }

            await base.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Moves <paramref name="from"/> to <paramref name="to"/>, failing with IOException if <paramref name="to"/> exists.</summary>
    private static void CreateOnlyRename(string from, string to)
    {
        if (OperatingSystem.IsWindows())
        {
            File.Move(from, to, overwrite: false); // MoveFileEx without REPLACE_EXISTING: atomic and create-only.
            return;
        }

        // rename(2) would replace silently; link(2) fails with EEXIST, so it is an atomic create-only commit.
        if (NativeMethods.Link(from, to) != 0)
        {
            throw new IOException($"Could not commit the object file {to} (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
        }

        File.Delete(from);
    }

    private sealed class FileLock(FileStream stream) : IStoreLock
    {
        public CancellationToken Lost => CancellationToken.None;

        public ValueTask DisposeAsync() => stream.DisposeAsync();
    }
}
