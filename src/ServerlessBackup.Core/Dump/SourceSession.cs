using System.Globalization;
using Npgsql;
using ServerlessBackup.Catalog;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Dump;

/// <summary>
/// The engine's own connection to the source: preflight checks, then a REPEATABLE READ, READ
/// ONLY transaction that exports its snapshot for pg_dump (<c>--snapshot</c>) and takes the census
/// inside that same snapshot. The transaction stays open until disposed, which must be after
/// pg_dump has ended: an exported snapshot dies with its transaction.
/// </summary>
internal sealed class SourceSession : IAsyncDisposable
{
    // Tables whose data pg_dump dumps: ordinary and partition leaf tables outside system schemas,
    // not temporary, not members of an extension.
    private const string UserRelations = """
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
          AND c.relpersistence <> 't'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        """;

    private readonly NpgsqlConnection connection;
    private readonly string database;
    private readonly PgConnectionInfo info;
    private readonly string secretName;

    private SourceSession(NpgsqlConnection connection, string database, PgConnectionInfo info, string secretName)
    {
        this.connection = connection;
        this.database = database;
        this.info = info;
        this.secretName = secretName;
    }

    /// <summary>The exported snapshot id, or null when the server could not export one (a pooler, a standby).</summary>
    public string? SnapshotId { get; private set; }

    /// <summary>The server's clock when the snapshot was taken.</summary>
    public DateTimeOffset SnapshotTime { get; private set; }

    /// <summary>What the server is and who we are on it.</summary>
    public required ServerFacts Server { get; init; }

    /// <summary>Why no snapshot was exported, when none was.</summary>
    public string? Warning { get; private set; }

    /// <summary>Connects, checks the server and privileges, and begins the snapshot transaction.</summary>
    public static async Task<SourceSession> OpenAsync(string database, PgConnectionInfo info, string secretName, int lockWaitTimeoutSeconds, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(info.ToNpgsql(timeoutSeconds: 15));
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var server = await ReadServerAsync(connection, cancellationToken).ConfigureAwait(false);
            await CheckPrivilegesAsync(connection, database, info, cancellationToken).ConfigureAwait(false);
            var session = new SourceSession(connection, database, info, secretName) { Server = server };
            await session.BeginAsync(lockWaitTimeoutSeconds, cancellationToken).ConfigureAwait(false);
            return session;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw PgErrors.Translate(ex, database, info, secretName);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<ServerFacts> ReadServerAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT current_setting('server_version_num')::int, current_setting('server_version'), current_user, pg_is_in_recovery()", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new ServerFacts(reader.GetInt32(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3));
    }

    private static async Task CheckPrivilegesAsync(NpgsqlConnection connection, string database, PgConnectionInfo info, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            SELECT format('%I.%I', n.nspname, c.relname), count(*) OVER ()
            {UserRelations} AND c.relkind IN ('r', 'p', 'S')
              AND (NOT has_schema_privilege(n.oid, 'USAGE') OR NOT has_table_privilege(c.oid, 'SELECT'))
            ORDER BY 1 LIMIT 5
            """, connection);
        var denied = new List<string>();
        long total = 0;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                denied.Add(reader.GetString(0));
                total = reader.GetInt64(1);
            }
        }

        if (denied.Count > 0)
        {
            var more = total > denied.Count ? $" and {total - denied.Count} more" : string.Empty;
            throw new SbkException(SbkErrorKind.Configuration,
                $"The role {info.Username} cannot read everything in database '{database}': no SELECT on {string.Join(", ", denied)}{more}. pg_dump would fail. Grant SELECT (or the pg_read_all_data role) to {info.Username}, then run again.");
        }
    }

    private async Task BeginAsync(int lockWaitTimeoutSeconds, CancellationToken cancellationToken)
    {
        var begin = string.Create(CultureInfo.InvariantCulture,
            $"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL lock_timeout = '{lockWaitTimeoutSeconds}s'");
        await ExecuteAsync(begin, cancellationToken).ConfigureAwait(false);
        try
        {
            // Must be the transaction's first query (it fixes the snapshot) and cannot run in a subtransaction.
            await using var command = new NpgsqlCommand("SELECT pg_export_snapshot(), clock_timestamp()", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            SnapshotId = reader.GetString(0);
            SnapshotTime = reader.GetFieldValue<DateTimeOffset>(1);
        }
        catch (PostgresException ex)
        {
            // Poolers in transaction mode and some proxies cannot export snapshots; dump anyway, and say so.
            await ExecuteAsync("ROLLBACK", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(begin, cancellationToken).ConfigureAwait(false);
            Warning = $"The server could not export a snapshot ({ex.MessageText}); pg_dump took its own, so the census may differ slightly from the dump. Connect directly rather than through a pooler to avoid this.";
            await using var command = new NpgsqlCommand("SELECT clock_timestamp()", connection);
            SnapshotTime = (DateTimeOffset)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    /// <summary>Counts every table's rows (and reads every sequence) inside the exported snapshot.</summary>
    public async Task<Census> TakeCensusAsync(CensusMode mode, CancellationToken cancellationToken)
    {
        if (mode == CensusMode.None)
        {
            return new Census(mode.ToString(), [], []);
        }

        try
        {
            var tables = new List<(string Schema, string Name, long Estimate)>();
            await using (var command = new NpgsqlCommand($"SELECT n.nspname, c.relname, greatest(c.reltuples, 0)::bigint {UserRelations} AND c.relkind = 'r' ORDER BY 1, 2", connection))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    tables.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
                }
            }

            var census = new List<CensusTable>(tables.Count);
            foreach (var (schema, name, estimate) in tables)
            {
                if (mode == CensusMode.Estimate)
                {
                    census.Add(new CensusTable(schema, name, estimate, Estimated: true));
                    continue;
                }

                await using var count = new NpgsqlCommand($"SELECT count(*) FROM ONLY {Quote(schema)}.{Quote(name)}", connection) { CommandTimeout = 0 };
                census.Add(new CensusTable(schema, name, (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!, Estimated: false));
            }

            var sequences = new List<CensusSequence>();
            var names = new List<(string Schema, string Name)>();
            await using (var command = new NpgsqlCommand($"SELECT n.nspname, c.relname {UserRelations} AND c.relkind = 'S' ORDER BY 1, 2", connection))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    names.Add((reader.GetString(0), reader.GetString(1)));
                }
            }

            foreach (var (schema, name) in names)
            {
                await using var command = new NpgsqlCommand($"SELECT last_value, is_called FROM {Quote(schema)}.{Quote(name)}", connection);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                sequences.Add(new CensusSequence(schema, name, reader.GetInt64(0), reader.GetBoolean(1)));
            }

            return new Census(mode.ToString(), census, sequences);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw PgErrors.Translate(ex, database, info, secretName);
        }
    }

    /// <summary>Quotes an SQL identifier.</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the transaction (read only: nothing to commit) and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await ExecuteAsync("ROLLBACK", CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (NpgsqlException)
        {
            // The connection is going away either way.
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }
}
