namespace ServerlessBackup.Backups;

/// <summary>Writes a decrypted archive to a new local file (decrypt, and restores that need a seekable copy), readable by its owner only.</summary>
internal static class PlaintextFile
{
    /// <summary>Copies <paramref name="source"/> into a new file at <paramref name="path"/>; returns the bytes written.</summary>
    /// <param name="source">Authenticated plaintext.</param>
    /// <param name="path">A path that must not exist yet.</param>
    /// <param name="durable">Flush it to disk before returning (a kept output, not a temporary copy).</param>
    /// <param name="onWritten">Called with the bytes written so far.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    public static async Task<long> WriteAsync(Stream source, string path, bool durable, Action<long>? onWritten, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, Options = FileOptions.Asynchronous, BufferSize = 1 << 16 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var output = new FileStream(path, options);
        var buffer = new byte[1 << 20];
        int n;
        while ((n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            onWritten?.Invoke(output.Position);
        }

        if (durable)
        {
            output.Flush(flushToDisk: true);
        }

        return output.Position;
    }
}
