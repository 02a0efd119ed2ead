using Npgsql;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Dump;

/// <summary>What every server sbk administers (a scratch server, a restore target's server) does the same way: connect, run a statement, drop a database.</summary>
internal static class PgAdmin
{
    /// <summary>An open connection to <paramref name="database"/> (null: the connection's own); a failure is <paramref name="translate"/>d, never leaked.</summary>
    public static async Task<NpgsqlConnection> ConnectAsync(PgConnectionInfo server, string? database, Func<Exception, SbkException> translate, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(server.ToNpgsql(database, timeoutSeconds: 15));
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw translate(ex);
        }
    }

    /// <summary>Runs <paramref name="sql"/> with a five-minute timeout (creating or dropping a large database takes a while).</summary>
    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops <paramref name="name"/>, ending its sessions; one already gone is fine.</summary>
    public static async Task DropDatabaseAsync(NpgsqlConnection connection, string name, Func<Exception, SbkException> translate, CancellationToken cancellationToken)
    {
        try
        {
            await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {SourceSession.Quote(name)} WITH (FORCE)", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw translate(ex);
        }
    }
}
