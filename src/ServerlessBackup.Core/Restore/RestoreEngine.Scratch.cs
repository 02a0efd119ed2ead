using Microsoft.Extensions.Logging;
using ServerlessBackup.Backups;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Restore;

public sealed partial class RestoreEngine
{
    /// <summary>Every scratch database sbk made on the scratch server (prefix and marker), oldest first.</summary>
    public async Task<IReadOnlyList<ScratchDatabase>> ListScratchAsync(CancellationToken cancellationToken = default)
    {
        var scratch = await ScratchServer.OpenAsync(options.Scratch, secrets, cancellationToken).ConfigureAwait(false);
        return await scratch.ListAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops one scratch database, expired or not. Refuses anything sbk did not make as a scratch database.</summary>
    /// <exception cref="SbkException">NotFound: no scratch database of that name.</exception>
    public async Task<ScratchDatabase> DropScratchAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var scratch = await ScratchServer.OpenAsync(options.Scratch, secrets, cancellationToken).ConfigureAwait(false);
        var found = await scratch.FindAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new SbkException(SbkErrorKind.NotFound,
                $"There is no scratch database named '{BackupEngine.Sanitize(name)}' made by sbk on {scratch.Describe()}; sbk drops only its own scratch databases (name prefix {ScratchNames.Prefix} and its marker comment). See them with: sbk scratch list.");
        await scratch.DropAsync(found.Name, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Dropped scratch database {Scratch}", found.Name);
        return found;
    }

    /// <summary>Drops every expired scratch database (or, with <paramref name="dryRun"/>, only says which); returns them.</summary>
    public async Task<IReadOnlyList<ScratchDatabase>> SweepScratchAsync(bool dryRun = false, CancellationToken cancellationToken = default)
    {
        var scratch = await ScratchServer.OpenAsync(options.Scratch, secrets, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var expired = (await scratch.ListAsync(cancellationToken).ConfigureAwait(false)).Where(s => s.IsExpiredAt(now)).ToList();
        if (!dryRun)
        {
            foreach (var database in expired)
            {
                await scratch.DropAsync(database.Name, cancellationToken).ConfigureAwait(false);
                logger.LogInformation("Swept expired scratch database {Scratch} (expired {ExpiresAt:u})", database.Name, database.ExpiresAt);
            }
        }

        return expired;
    }
}
