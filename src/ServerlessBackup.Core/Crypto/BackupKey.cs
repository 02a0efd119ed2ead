namespace ServerlessBackup.Crypto;

/// <summary>
/// One backup's data key, unwrapped, with its envelope. Disposing wipes the key.
/// Every object of the backup (archive, manifest) derives its own key from it.
/// </summary>
public sealed class BackupKey : IDisposable
{
    /// <summary>Role of the archive object, bound into its key.</summary>
    public const string ArchiveRole = "archive";

    /// <summary>Role of the manifest's sealed part, bound into its key.</summary>
    public const string ManifestRole = "manifest";

    /// <summary>Role of a verification record's sealed part, bound into its key.</summary>
    public const string VerificationRole = "verification";

    private readonly DataKey dataKey;

    private BackupKey(KeyEnvelope envelope, DataKey dataKey)
    {
        Envelope = envelope;
        this.dataKey = dataKey;
    }

    /// <summary>The wrapped form, safe to store.</summary>
    public KeyEnvelope Envelope { get; }

    /// <summary>A new random data key for <paramref name="backupId"/>, wrapped by <paramref name="master"/>.</summary>
    public static BackupKey Create(MasterKey master, string backupId)
    {
        ArgumentNullException.ThrowIfNull(master);
        ArgumentException.ThrowIfNullOrEmpty(backupId);
        var (envelope, key) = KeyEnvelope.Create(master, backupId);
        return new BackupKey(envelope, key);
    }

    /// <summary>Unwraps an envelope with the master key it names.</summary>
    /// <exception cref="Errors.IntegrityException">Wrong key or altered envelope.</exception>
    public static BackupKey Open(KeyEnvelope envelope, MasterKey master)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(master);
        return new BackupKey(envelope, envelope.Open(master));
    }

    internal byte[] ObjectKey(string role) => dataKey.ObjectKey(role);

    /// <summary>An encrypting stream that writes the archive object to <paramref name="destination"/>.</summary>
    public ArchiveEncryptingStream CreateArchiveWriter(Stream destination, int chunkSize, PayloadEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var header = ArchiveHeader.Create(Envelope, ArchiveRole, chunkSize, encoding);
        return new ArchiveEncryptingStream(destination, header, ObjectKey(ArchiveRole));
    }

    /// <summary>A decrypting stream over an archive whose header was already read from <paramref name="source"/>.</summary>
    /// <exception cref="Errors.IntegrityException">The header belongs to another backup or object role.</exception>
    public ArchiveDecryptingStream CreateArchiveReader(Stream source, ArchiveHeader header, string what)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(header);
        if (header.Envelope.BackupId != Envelope.BackupId || header.Role != ArchiveRole)
        {
            throw new Errors.IntegrityException($"{what} belongs to backup {header.Envelope.BackupId} ({header.Role}), not to backup {Envelope.BackupId}: objects were swapped.");
        }

        return new ArchiveDecryptingStream(source, header, ObjectKey(ArchiveRole), what);
    }

    /// <inheritdoc />
    public void Dispose() => dataKey.Dispose();
}
