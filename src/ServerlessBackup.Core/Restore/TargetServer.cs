using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using ServerlessBackup.Catalog;
using ServerlessBackup.Dump;
using ServerlessBackup.Errors;
using ServerlessBackup.Secrets;

namespace ServerlessBackup.Restore;

/// <summary>
/// The server of a catalogued database, reached with that database's own connection string, for
/// restores that build a new copy beside it and swap it in: checks the role may do that, creates
/// the incoming copy with the database's owner, encoding, settings and grants, swaps, and lists and
/// drops what sbk left beside it (replaced databases kept for a swap back, incoming copies of
/// killed restores). Only databases with sbk's prefix and marker are ever dropped.
/// </summary>
internal sealed partial class TargetServer
{
    private static readonly string[] MaintenanceDatabases = ["postgres", "template1"];
    private readonly string secretName;

    private TargetServer(string catalog, PgConnectionInfo connection, string secretName)
    {
        Catalog = catalog;
        Connection = connection;
        this.secretName = secretName;
    }

    /// <summary>The catalog name of the database.</summary>
    public string Catalog { get; }

    /// <summary>Its connection (the database it names is the one replaced).</summary>
    public PgConnectionInfo Connection { get; }

    /// <summary>The database's name on its server.</summary>
    public string DatabaseName => Connection.Database;

    /// <summary>"host:port", for messages.</summary>
    public string Describe() => $"{Connection.Host}:{Connection.Port}";

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_.]{0,62}\z")]
    private static partial Regex SettingName();

    /// <summary>Reads the catalogued database's connection secret.</summary>
    public static async Task<TargetServer> OpenAsync(string catalog, DatabaseOptions entry, ISecretStore secrets, CancellationToken cancellationToken)
    {
        var name = entry.ConnectionStringSecret!;
        try
        {
            return new TargetServer(catalog, PgConnectionInfo.FromSecret(await secrets.GetSecretAsync(name, null, cancellationToken).ConfigureAwait(false)), name);
        }
        catch (SbkException ex) when (ex.Kind == SbkErrorKind.NotFound)
        {
            throw new SbkException(SbkErrorKind.Configuration, $"Database '{catalog}' names the secret '{name}' for its connection string, but it is not in {secrets.Description}. Nothing was changed.", false, ex);
        }
    }

    /// <summary>
    /// A connection to another database of the same server (a database is renamed from outside
    /// it): <c>postgres</c>, else <c>template1</c>; null when the role may connect to neither.
    /// </summary>
    public async Task<NpgsqlConnection?> TryConnectBesideAsync(CancellationToken cancellationToken)
    {
        foreach (var database in MaintenanceDatabases.Where(d => d != DatabaseName))
        {
            var connection = new NpgsqlConnection(Connection.ToNpgsql(database, timeoutSeconds: 15));
            try
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                return connection;
            }
            catch (PostgresException ex) when (ex.SqlState is "3D000" or "42501" or "28000")
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw Translate(ex);
            }
        }

        return null;
    }

    /// <summary>A connection beside the database, or a clear refusal.</summary>
    public async Task<NpgsqlConnection> ConnectBesideAsync(CancellationToken cancellationToken) =>
        await TryConnectBesideAsync(cancellationToken).ConfigureAwait(false)
        ?? throw new SbkException(SbkErrorKind.Configuration, $"The role {Connection.Username} cannot connect to the 'postgres' or 'template1' database on {Describe()}, which sbk needs to rename databases. Nothing was changed.");

    /// <summary>
    /// Why the role cannot restore into a new database beside the target and swap it in, or null
    /// when it can: it must reach another database of the server, create databases (CREATEDB or
    /// superuser) and own the target (renaming a database needs its ownership). Changes nothing.
    /// </summary>
    public async Task<string?> WhyNotSwapAsync(CancellationToken cancellationToken)
    {
        await using var connection = await TryConnectBesideAsync(cancellationToken).ConfigureAwait(false);
        if (connection is null)
        {
            return $"the role {Connection.Username} cannot connect to the 'postgres' or 'template1' database, which renaming a database needs";
        }

        try
        {
            await using var command = new NpgsqlCommand("""
                SELECT r.rolsuper, r.rolcreatedb,
                       (SELECT pg_has_role(current_user, d.datdba, 'MEMBER') FROM pg_database d WHERE d.datname = $1),
                       (SELECT count(*) FROM pg_database d WHERE d.datname = $1)
                FROM pg_roles r WHERE r.rolname = current_user
                """, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = DatabaseName });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return $"the role {Connection.Username} is not visible in pg_roles (a restricted managed service)";
            }

            if (reader.GetInt64(3) == 0)
            {
                return $"there is no database '{DatabaseName}' on {Describe()}";
            }

            var superuser = reader.GetBoolean(0);
            if (!superuser && !reader.GetBoolean(1))
            {
                return $"the role {Connection.Username} may not create databases (it needs CREATEDB: ALTER ROLE {Connection.Username} CREATEDB)";
            }

            return !superuser && !(!reader.IsDBNull(2) && reader.GetBoolean(2))
                ? $"the role {Connection.Username} does not own '{DatabaseName}' (nor is a member of its owner), and only the owner may rename a database"
                : null;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw Translate(ex);
        }
    }

    /// <summary>
    /// Creates the empty database <paramref name="name"/> beside the target with the target's
    /// owner, encoding, locale, connection limit, settings and grants, marked with
    /// <paramref name="marker"/>. Returns what could not be copied (a setting only a superuser may
    /// set, say), for the result's notes.
    /// </summary>
    public async Task<IReadOnlyList<string>> CreateIncomingAsync(string name, string marker, CancellationToken cancellationToken)
    {
        var notes = new List<string>();
        await using var connection = await ConnectBesideAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var target = await ReadPropertiesAsync(connection, cancellationToken).ConfigureAwait(false);
            var q = SourceSession.Quote(name);
            var create = $"CREATE DATABASE {q} OWNER {SourceSession.Quote(target.Owner)} TEMPLATE template0 ENCODING {Literal(target.Encoding)}";
            if (target.Collate.Length > 0 && target.Ctype.Length > 0)
            {
                create += $" LC_COLLATE {Literal(target.Collate)} LC_CTYPE {Literal(target.Ctype)}";
            }

            create += target.Provider switch
            {
                ("i", { Length: > 0 } locale) => $" LOCALE_PROVIDER icu ICU_LOCALE {Literal(locale)}",
                ("b", { Length: > 0 } locale) => $" LOCALE_PROVIDER builtin BUILTIN_LOCALE {Literal(locale)}",
                _ => string.Empty,
            };

            await ExecuteAsync(connection, create + $" CONNECTION LIMIT {target.ConnectionLimit.ToString(CultureInfo.InvariantCulture)}", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, $"COMMENT ON DATABASE {q} IS {Literal(marker)}", CancellationToken.None).ConfigureAwait(false);

            if (target.Grants is { } grants)
            {
                await ExecuteAsync(connection, $"REVOKE ALL ON DATABASE {q} FROM PUBLIC", cancellationToken).ConfigureAwait(false);
                foreach (var (grantee, privilege, grantable) in grants)
                {
                    var to = grantee is null ? "PUBLIC" : SourceSession.Quote(grantee);
                    try
                    {
                        await ExecuteAsync(connection, $"GRANT {privilege} ON DATABASE {q} TO {to}{(grantable ? " WITH GRANT OPTION" : string.Empty)}", cancellationToken).ConfigureAwait(false);
                    }
                    catch (PostgresException ex)
                    {
                        notes.Add($"could not grant {privilege} on the database to {to}: {ex.MessageText}");
                    }
                }
            }

            foreach (var setting in target.Settings)
            {
                // set_config takes the value as data and FROM CURRENT stores it: no value is ever spliced into SQL.
                var equals = setting.IndexOf('=', StringComparison.Ordinal);
                var key = equals > 0 ? setting[..equals] : string.Empty;
                if (!SettingName().IsMatch(key))
                {
                    notes.Add($"skipped a database setting with an unusual name ({key})");
                    continue;
                }

                try
                {
                    await using (var set = new NpgsqlCommand("SELECT set_config($1, $2, false)", connection))
                    {
                        set.Parameters.Add(new NpgsqlParameter { Value = key });
                        set.Parameters.Add(new NpgsqlParameter { Value = setting[(equals + 1)..] });
                        await set.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }

                    await ExecuteAsync(connection, $"ALTER DATABASE {q} SET {SourceSession.Quote(key)} FROM CURRENT", cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException ex)
                {
                    notes.Add($"could not copy the database setting {key}: {ex.MessageText}");
                }
                finally
                {
                    await ExecuteAsync(connection, "RESET ALL", CancellationToken.None).ConfigureAwait(false);
                }
            }

            return notes;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw Translate(ex);
        }
    }

    /// <summary>
    /// Swaps <paramref name="incoming"/> in for the target, keeping the target as
    /// <paramref name="aside"/> marked <paramref name="asideMarker"/>; the database now under the
    /// target's name gets <paramref name="newComment"/> (the replaced one's own comment).
    /// </summary>
    public async Task SwapInAsync(string incoming, string aside, string asideMarker, string? newComment, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectBesideAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await DatabaseSwap.SwapAsync(connection, DatabaseName, incoming, aside,
                [
                    $"COMMENT ON DATABASE {SourceSession.Quote(aside)} IS {Literal(asideMarker)}",
                    $"COMMENT ON DATABASE {SourceSession.Quote(DatabaseName)} IS {(newComment is null ? "NULL" : Literal(newComment))}",
                ], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw Translate(ex);
        }
    }

    /// <summary>The target database's own comment (null when none).</summary>
    public async Task<string?> ReadCommentAsync(CancellationToken cancellationToken)
    {
        await using var connection = await ConnectBesideAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = DatabaseName });
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    /// <summary>
    /// The databases sbk left beside this one: replaced ones (kept for a swap back) and incoming
    /// copies (prefix and marker). None where the role cannot reach another database of the server
    /// (it could not have made any there).
    /// </summary>
    public async Task<(IReadOnlyList<PreviousDatabase> Previous, IReadOnlyList<string> Incoming)> ListBesideAsync(CancellationToken cancellationToken)
    {
        await using var connection = await TryConnectBesideAsync(cancellationToken).ConfigureAwait(false);
        if (connection is null)
        {
            return ([], []);
        }

        try
        {
            await using var command = new NpgsqlCommand("""
                SELECT d.datname, shobj_description(d.oid, 'pg_database'), pg_database_size(d.oid)
                FROM pg_database d WHERE d.datname LIKE 'sbk\_prev\_%' OR d.datname LIKE 'sbk\_in\_%' ORDER BY d.datname
                """, connection);
            var previous = new List<PreviousDatabase>();
            var incoming = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var name = reader.GetString(0);
                var comment = reader.IsDBNull(1) ? null : reader.GetString(1);
                if (SwapNames.ParsePrevious(name, comment, ScratchServer.SizeOrZero(reader)) is { } p && p.Catalog == Catalog && p.Of == DatabaseName)
                {
                    previous.Add(p);
                }
                else if (SwapNames.ParseIncoming(name, comment) is { } i && i.Catalog == Catalog && i.Of == DatabaseName)
                {
                    incoming.Add(name);
                }
            }

            return (previous.OrderByDescending(p => p.SwappedAt).ToList(), incoming);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw Translate(ex);
        }
    }

    /// <summary>Drops a database sbk made beside the target (an incoming copy or a replaced database); one already gone is fine.</summary>
    public async Task DropAsync(string name, CancellationToken cancellationToken)
    {
        if (!name.StartsWith(SwapNames.IncomingPrefix, StringComparison.Ordinal) && !name.StartsWith(SwapNames.PreviousPrefix, StringComparison.Ordinal))
        {
            throw new ArgumentException("Only databases sbk made beside a target are dropped here.", nameof(name));
        }

        await using var connection = await ConnectBesideAsync(cancellationToken).ConfigureAwait(false);
        await PgAdmin.DropDatabaseAsync(connection, name, Translate, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An open connection to <paramref name="database"/> on this server.</summary>
    public Task<NpgsqlConnection> ConnectAsync(string database, CancellationToken cancellationToken) =>
        PgAdmin.ConnectAsync(Connection, database, Translate, cancellationToken);

    private async Task<Properties> ReadPropertiesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // row_to_json reads pg_database whatever the server version (datlocprovider is 15+).
        string json;
        await using (var command = new NpgsqlCommand("SELECT row_to_json(d)::text, pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding) FROM pg_database d WHERE d.datname = $1", connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = DatabaseName });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new SbkException(SbkErrorKind.NotFound, $"There is no database '{DatabaseName}' on {Describe()} (catalog entry '{Catalog}'). Nothing was changed.");
            }

            json = reader.GetString(0);
            var owner = reader.GetString(1);
            var encoding = reader.GetString(2);
            using var row = JsonDocument.Parse(json);
            var root = row.RootElement;
            string Text(string field) => root.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : string.Empty;
            // datlocale (17+) was daticulocale (15, 16); before 15 every database used libc.
            var provider = (Text("datlocprovider"), Text("datlocale") is { Length: > 0 } l ? l : Text("daticulocale"));
            var properties = new Properties(owner, encoding, Text("datcollate"), Text("datctype"), provider,
                root.TryGetProperty("datconnlimit", out var limit) && limit.ValueKind == JsonValueKind.Number ? limit.GetInt32() : -1, [], null);
            await reader.DisposeAsync().ConfigureAwait(false);
            return properties with { Settings = await ReadSettingsAsync(connection, cancellationToken).ConfigureAwait(false), Grants = await ReadGrantsAsync(connection, cancellationToken).ConfigureAwait(false) };
        }
    }

    private async Task<List<string>> ReadSettingsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT unnest(s.setconfig) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1 AND s.setrole = 0", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = DatabaseName });
        var settings = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            settings.Add(reader.GetString(0));
        }

        return settings;
    }

    /// <summary>The database's explicit grants (null when it has the default ones).</summary>
    private async Task<List<(string? Grantee, string Privilege, bool Grantable)>?> ReadGrantsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT d.datacl IS NULL, CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END, a.privilege_type, a.is_grantable
            FROM pg_database d LEFT JOIN LATERAL aclexplode(d.datacl) a ON true
            WHERE d.datname = $1 AND (a.grantee IS NULL OR a.grantee <> d.datdba)
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = DatabaseName });
        var grants = new List<(string?, string, bool)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (reader.GetBoolean(0))
            {
                return null;
            }

            if (!reader.IsDBNull(2) && reader.GetString(2) is "CONNECT" or "CREATE" or "TEMPORARY" && !reader.IsDBNull(3))
            {
                grants.Add((reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2), reader.GetBoolean(3)));
            }
        }

        return grants;
    }

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private SbkException Translate(Exception ex) => PgErrors.Translate(ex, Catalog, Connection, secretName);

    private static Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken) =>
        PgAdmin.ExecuteAsync(connection, sql, cancellationToken);

    private sealed record Properties(string Owner, string Encoding, string Collate, string Ctype, (string Kind, string Locale) Provider, int ConnectionLimit, List<string> Settings, List<(string? Grantee, string Privilege, bool Grantable)>? Grants);
}
