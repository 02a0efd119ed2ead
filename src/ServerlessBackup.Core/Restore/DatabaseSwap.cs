using Npgsql;
using ServerlessBackup.Dump;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Restore;

/// <summary>
/// Puts one database in the place of another on the same server, atomically: both renames (and
/// the markers that go with them) run in one transaction, since PostgreSQL renames databases
/// transactionally, so the name is always held by exactly one of them and a process killed at any
/// instant leaves the server either as it was or swapped. Nothing is changed before that
/// transaction (no connection ban that a killed process could leave behind): the sessions still
/// connected to either database are ended inside it, and if new ones keep arriving the
/// transaction is retried for a while, then given up with the server unchanged.
/// </summary>
internal static class DatabaseSwap
{
    /// <summary>How long the swap keeps trying while sessions reconnect to the database being replaced.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Renames <paramref name="current"/> to <paramref name="aside"/> and <paramref name="incoming"/>
    /// to <paramref name="current"/>, then runs <paramref name="alsoInTransaction"/>, all in one
    /// transaction. <paramref name="connection"/> is open on another database of the same server (a
    /// database cannot be renamed by a session connected to it).
    /// </summary>
    /// <exception cref="SbkException">Sessions kept reconnecting; nothing was changed.</exception>
    public static async Task SwapAsync(NpgsqlConnection connection, string current, string incoming, string aside, IReadOnlyList<string> alsoInTransaction, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                // From here on nothing is cancelled half-way: the transaction commits whole or not at all.
                await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None).ConfigureAwait(false);
                await TerminateSessionsAsync(connection, [current, incoming], CancellationToken.None).ConfigureAwait(false);
                await ExecuteAsync(connection, $"ALTER DATABASE {SourceSession.Quote(current)} RENAME TO {SourceSession.Quote(aside)}").ConfigureAwait(false);
                await ExecuteAsync(connection, $"ALTER DATABASE {SourceSession.Quote(incoming)} RENAME TO {SourceSession.Quote(current)}").ConfigureAwait(false);
                foreach (var sql in alsoInTransaction)
                {
                    await ExecuteAsync(connection, sql).ConfigureAwait(false);
                }

                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                return;
            }
            catch (PostgresException ex) when (ex.SqlState == "55006")
            {
                // "database is being accessed by other users": a session arrived after the terminations.
                if (DateTime.UtcNow >= deadline)
                {
                    throw new SbkException(SbkErrorKind.Failed,
                        $"Sessions kept connecting to '{current}' for {Patience.TotalSeconds:0} s while sbk tried to swap the restored copy in, so '{current}' was left as it was. Stop the application (or pause its connection pooler) and run the restore again.",
                        isTransient: true);
                }

                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Ends the other sessions connected to <paramref name="databases"/> that this role may end
    /// (its own roles', or any with pg_signal_backend; a superuser's sessions need a superuser);
    /// autovacuum workers are left to the server, which stops them for a rename or drop.
    /// </summary>
    public static async Task<int> TerminateSessionsAsync(NpgsqlConnection connection, string[] databases, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
            WHERE a.datname = ANY($1) AND a.pid <> pg_backend_pid()
              AND (pg_has_role(current_user, a.usesysid, 'MEMBER') OR pg_has_role(current_user, 'pg_signal_backend', 'MEMBER'))
              AND (NOT r.rolsuper OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user))
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = databases });
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
        await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
