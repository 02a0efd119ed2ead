using System.Collections.Concurrent;
using Npgsql;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Dump;

/// <summary>What every server sbk administers (a scratch server, a restore target's server) does the same way: connect, run a statement, drop a database.</summary>
internal static class PgAdmin
{
    /// <summary>
    /// A data source for each maintenance connection string (Npgsql keeps one per connection string
    /// for plain connections too): each connection it opens knows only PostgreSQL's built-in types,
    /// so the query that reads the server's (about 50 ms a connection) is skipped.
    /// </summary>
    private static readonly ConcurrentDictionary<string, NpgsqlDataSource> Maintenance = new(StringComparer.Ordinal);

    private static NpgsqlDataSource WithoutTypeLoading(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConfigureTypeLoading(types => types.EnableTypeLoading(false));
        return builder.Build();
    }

    /// <summary>
    /// An open connection to <paramref name="database"/> (null: the connection's own, for
    /// maintenance: creating, listing, marking and dropping databases, which needs only built-in
    /// types, so the server's are not read); a failure is <paramref name="translate"/>d, never leaked.
    /// </summary>
    public static async Task<NpgsqlConnection> ConnectAsync(PgConnectionInfo server, string? database, Func<Exception, SbkException> translate, CancellationToken cancellationToken)
    {
        var text = server.ToNpgsql(database, timeoutSeconds: 15);
        var connection = database is null ? Maintenance.GetOrAdd(text, WithoutTypeLoading).CreateConnection() : new NpgsqlConnection(text);
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
