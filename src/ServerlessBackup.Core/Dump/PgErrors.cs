using System.Net.Sockets;
using Npgsql;
using ServerlessBackup.Diagnostics;
using ServerlessBackup.Errors;

namespace ServerlessBackup.Dump;

/// <summary>Turns Npgsql failures into messages that say which database failed and what to do.</summary>
internal static class PgErrors
{
    public static SbkException Translate(Exception ex, string database, PgConnectionInfo connection, string secretName, string? subject = null)
    {
        var where = subject is null ? $"database '{database}' ({connection.Describe()})" : $"{subject} ({connection.Describe()})";
        return ex switch
        {
            PostgresException { SqlState: "28P01" or "28000" } => new SbkException(SbkErrorKind.Configuration,
                $"The server refused the credentials for {where}. Check the user and password in the secret '{secretName}'.", false, null),
            PostgresException { SqlState: "3D000" } => new SbkException(SbkErrorKind.Configuration,
                $"The server has no database named '{connection.Database}' (catalog entry '{database}'). Check the database name in the secret '{secretName}'.", false, null),
            PostgresException { SqlState: "55P03" } pg => new SbkException(SbkErrorKind.Failed,
                $"A table lock in {where} was not granted within the lock wait timeout: another session holds a conflicting lock ({SecretRedactor.Redact(pg.MessageText)}). Try again when it is released, or raise Dump:LockWaitTimeoutSeconds.", true, null),
            PostgresException { SqlState: "42501" } pg => new SbkException(SbkErrorKind.Configuration,
                $"The role {connection.Username} lacks a privilege in {where}: {SecretRedactor.Redact(pg.MessageText)}. Grant it, or use a role with pg_read_all_data.", false, null),
            PostgresException pg => new SbkException(SbkErrorKind.Failed,
                $"The server reported an error for {where}: {SecretRedactor.Redact(pg.MessageText)} (SQLSTATE {pg.SqlState}).", pg.IsTransient, null),
            NpgsqlException { InnerException: SocketException or TimeoutException or IOException } or TimeoutException => new SbkException(SbkErrorKind.Failed,
                $"Cannot reach the server for {where}: {SecretRedactor.Redact(Innermost(ex).Message)}. Check the host and port, the network, and that the server is running.", true, null),
            NpgsqlException npg => new SbkException(SbkErrorKind.Failed,
                $"Talking to {where} failed: {SecretRedactor.Redact(npg.Message)}.", npg.IsTransient, null),
            _ => new SbkException(SbkErrorKind.Failed, $"Talking to {where} failed: {SecretRedactor.Redact(ex.Message)}.", false, null),
        };
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }
}
