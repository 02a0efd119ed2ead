using ServerlessBackup.Crypto;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Backups;

/// <summary>
/// A stored backup's pg_dump archive as a forward-only stream of authenticated plaintext: every
/// byte read from <see cref="Stream"/> comes from a chunk that already authenticated. The
/// manifest was authenticated when it was opened and the header checked against it; after the
/// stream is read to its end, <see cref="VerifyComplete"/> checks the whole object's size and
/// SHA-256 against the manifest. Disposing wipes the key.
/// </summary>
internal sealed class ArchivePlaintext : IAsyncDisposable
{
    private readonly BackupKey key;
    private readonly ObservedStream stored;
    private readonly ObservedStream plain;

    internal ArchivePlaintext(BackupDetails details, BackupKey key, ObservedStream stored, ObservedStream plain)
    {
        Details = details;
        this.key = key;
        this.stored = stored;
        this.plain = plain;
    }

    /// <summary>The authenticated manifest and its private part.</summary>
    public BackupDetails Details { get; }

    /// <summary>The plaintext pg_dump archive.</summary>
    public Stream Stream => plain;

    /// <summary>Bytes of the stored (encrypted) object read so far.</summary>
    public long StoredBytesRead => stored.BytesRead;

    /// <summary>Plaintext bytes read so far.</summary>
    public long PlainBytesRead => plain.BytesRead;

    /// <summary>Time spent waiting for the store.</summary>
    public TimeSpan DownloadTime => stored.Elapsed;

    /// <summary>Time spent authenticating, decrypting and decompressing (plaintext reads minus the store's share).</summary>
    public TimeSpan DecryptTime => plain.Elapsed - stored.Elapsed is var t && t > TimeSpan.Zero ? t : TimeSpan.Zero;

    /// <summary>Reads whatever is left, authenticating it, without keeping it.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 20];
        while (await plain.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
        {
        }
    }

    /// <summary>After the end of <see cref="Stream"/>: the stored object must have exactly the size and SHA-256 the manifest records.</summary>
    /// <exception cref="IntegrityException">It does not.</exception>
    public void VerifyComplete()
    {
        var m = Details.Manifest;
        if (stored.BytesRead != m.Archive.Length || !Convert.ToHexStringLower(stored.Sha256()).Equals(m.Archive.Sha256, StringComparison.Ordinal))
        {
            throw new IntegrityException($"The archive of backup {m.BackupId} ({m.Database}) does not have the size and SHA-256 its manifest records: it was replaced or altered.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await plain.DisposeAsync().ConfigureAwait(false);
        key.Dispose();
    }
}
