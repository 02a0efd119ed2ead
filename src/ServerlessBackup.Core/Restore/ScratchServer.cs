using Npgsql;
using ServerlessBackup.Catalog;
using ServerlessBackup.Dump;
using ServerlessBackup.Errors;
using ServerlessBackup.Secrets;

namespace ServerlessBackup.Restore;

/// <summary>
/// The scratch server, reached with the admin connection string named by
/// <c>Scratch:ConnectionStringSecret</c>: creates, finds, lists and drops scratch databases.
/// </summary>
internal sealed class ScratchServer
{
    private readonly string secretName;

    private ScratchServer(PgConnectionInfo admin, string secretName)
    {
        Admin = admin;
        this.secretName = secretName;
    }

    /// <summary>The admin connection (its database is the maintenance database).</summary>
    public PgConnectionInfo Admin { get; }

    /// <summary>"host:port", for messages.</summary>
    public string Describe() => $"the scratch server {Admin.Host}:{Admin.Port}";

    /// <summary>Reads the scratch server's secret.</summary>
    /// <exception cref="SbkException">Configuration: no scratch server configured, or its secret is missing or unusable.</exception>
    public static async Task<ScratchServer> OpenAsync(ScratchOptions options, ISecretStore secrets, CancellationToken cancellationToken)
    {
        var name = options.ConnectionStringSecret;
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new SbkException(SbkErrorKind.Configuration,
                "Restores and verifications need a scratch server: set Scratch:ConnectionStringSecret to the name of a secret holding an admin connection string for a server where sbk may create databases (see README.md, 'Restore and verify').");
        }

        SecretValue secret;
        try
        {
            secret = await secrets.GetSecretAsync(name, null, cancellationToken).ConfigureAwait(false);
        }
        catch (SbkException ex) when (ex.Kind == SbkErrorKind.NotFound)
        {
            throw new SbkException(SbkErrorKind.Configuration, $"Scratch:ConnectionStringSecret names the secret '{name}', but it is not in {secrets.Description}. Store the scratch server's admin connection string there.", false, ex);
        }

        return new ScratchServer(PgConnectionInfo.FromSecret(secret), name);
    }

    /// <summary>
    /// Starts creating an empty scratch database with its marker (incomplete until
    /// <see cref="MarkCompleteAsync"/>): its name at once, and the creation, so that the archive
    /// can be opened meanwhile. Whoever drops the database on failure waits for
    /// <see cref="Creation.Created"/> first (see <see cref="Creation.SettledAsync"/>).
    /// </summary>
    public Creation StartCreate(string source, string backupId, DateTimeOffset now, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var name = ScratchNames.Create(source, backupId, now + ttl);
        return new Creation(name, CreateAsync(name, source, backupId, now, now + ttl, cancellationToken));
    }

    /// <summary>A scratch database being created: its name, and the creation.</summary>
    public sealed record Creation(string Name, Task Created)
    {
        /// <summary>
        /// Waits for the creation to end, however it ends: true when the database exists, false
        /// when it failed (nothing to drop); null when it was cancelled midway, so that whether the
        /// server made it is not known (drop it if it exists).
        /// </summary>
        public async Task<bool?> SettledAsync()
        {
            try
            {
                await Created.ConfigureAwait(false);
                return true;
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            catch (Exception)
            {
                return false;
            }
        }
    }

    private async Task CreateAsync(string name, string source, string backupId, DateTimeOffset now, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // From template0, as pg_dump's documentation asks: whatever a provider or an admin added to template1 (extensions, say) is not in the way of the restore.
            await ExecuteAsync(connection, $"CREATE DATABASE {SourceSession.Quote(name)} TEMPLATE template0", cancellationToken).ConfigureAwait(false);
            var marker = ScratchNames.MarkerFor(source, backupId, now, expires, complete: false).Replace("'", "''", StringComparison.Ordinal);
            await ExecuteAsync(connection, $"COMMENT ON DATABASE {SourceSession.Quote(name)} IS '{marker}'", cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == "42501")
        {
            throw new SbkException(SbkErrorKind.Configuration,
                $"The role {Admin.Username} may not create databases on {Describe()}. Give it CREATEDB (ALTER ROLE {Admin.Username} CREATEDB) or name another role in the secret '{secretName}'.");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw Translate(ex);
        }
    }

    /// <summary>Marks a scratch database's restore as finished (a killed restore leaves it marked incomplete).</summary>
    public async Task MarkCompleteAsync(ScratchDatabase database, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        await using var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var marker = ScratchNames.MarkerFor(database.SourceDatabase, database.BackupId, database.CreatedAt, database.ExpiresAt, complete: true).Replace("'", "''", StringComparison.Ordinal);
        try
        {
            await ExecuteAsync(connection, $"COMMENT ON DATABASE {SourceSession.Quote(database.Name)} IS '{marker}'", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw Translate(ex);
        }
    }

    /// <summary>
    /// Puts <paramref name="incoming"/> (a finished restore into a new scratch database) in the
    /// place of the scratch copy <paramref name="existing"/> in one transaction, marked as holding
    /// <paramref name="backupId"/> with the existing copy's expiry, then drops the copy it replaced:
    /// a failed restore never touches <paramref name="existing"/>.
    /// </summary>
    public async Task ReplaceAsync(ScratchDatabase existing, string incoming, string backupId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(existing);
        if (!ScratchNames.HasPrefix(incoming))
        {
            throw new ArgumentException("Only scratch databases are swapped here.", nameof(incoming));
        }

        // The replaced copy is dropped at once; marked expired, so a sweep drops it if this process dies first.
        var aside = ScratchNames.Prefix + "old_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        var marker = ScratchNames.MarkerFor(existing.SourceDatabase, backupId, now, existing.ExpiresAt).Replace("'", "''", StringComparison.Ordinal);
        var expired = ScratchNames.MarkerFor(existing.SourceDatabase, existing.BackupId, existing.CreatedAt, now).Replace("'", "''", StringComparison.Ordinal);
        await using var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await DatabaseSwap.SwapAsync(connection, existing.Name, incoming, aside,
                [$"COMMENT ON DATABASE {SourceSession.Quote(existing.Name)} IS '{marker}'", $"COMMENT ON DATABASE {SourceSession.Quote(aside)} IS '{expired}'"], cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {SourceSession.Quote(aside)} WITH (FORCE)", CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw Translate(ex);
        }
    }

    /// <summary>Every scratch database sbk made (prefix and marker), oldest first.</summary>
    public async Task<IReadOnlyList<ScratchDatabase>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = new NpgsqlCommand("""
                SELECT d.datname, shobj_description(d.oid, 'pg_database'), pg_database_size(d.oid)
                FROM pg_database d WHERE d.datname LIKE 'sbk\_scratch\_%' ORDER BY d.datname
                """, connection);
            var result = new List<ScratchDatabase>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (ScratchNames.Parse(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), SizeOrZero(reader)) is { } scratch)
                {
                    result.Add(scratch);
                }
            }

            return result.OrderBy(s => s.CreatedAt).ThenBy(s => s.Name, StringComparer.Ordinal).ToList();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw Translate(ex);
        }
    }

    /// <summary>
    /// The third column's pg_database_size, or 0 where it is null: the size of a database that another
    /// session is dropping (its files gone, its row not yet) or making, which the listing still sees.
    /// </summary>
    internal static long SizeOrZero(NpgsqlDataReader reader) => reader.IsDBNull(2) ? 0 : reader.GetInt64(2);

    /// <summary>The scratch database named <paramref name="name"/>, or null if there is no such database made by sbk.</summary>
    public async Task<ScratchDatabase?> FindAsync(string name, CancellationToken cancellationToken) =>
        (await ListAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(s => s.Name == name);

    /// <summary>Drops a scratch database (terminating its sessions). Dropping one that is already gone succeeds.</summary>
    public async Task DropAsync(string name, CancellationToken cancellationToken)
    {
        if (!ScratchNames.HasPrefix(name))
        {
            throw new ArgumentException("Only scratch databases are dropped.", nameof(name));
        }

        await using var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await PgAdmin.DropDatabaseAsync(connection, name, Translate, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An open connection to a database on the scratch server (the maintenance database by default).</summary>
    public Task<NpgsqlConnection> ConnectAsync(CancellationToken cancellationToken, string? database = null) =>
        PgAdmin.ConnectAsync(Admin, database, Translate, cancellationToken);

    private SbkException Translate(Exception ex) => PgErrors.Translate(ex, "scratch", Admin, secretName, "the scratch server");

    private static Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken) =>
        PgAdmin.ExecuteAsync(connection, sql, cancellationToken);
}
