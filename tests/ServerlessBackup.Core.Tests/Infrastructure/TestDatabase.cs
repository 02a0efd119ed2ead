using Npgsql;

namespace ServerlessBackup.Tests.Infrastructure;

/// <summary>A database created for one test and dropped after it.</summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    private readonly int port;

    private TestDatabase(string name, int port)
    {
        Name = name;
        this.port = port;
    }

    public string Name { get; }

    public string ConnectionString => TestServers.AdminConnectionString(Name, port);

    public string ConnectionUri => TestServers.ConnectionUri(Name, port: port);

    public static async Task<TestDatabase> CreateAsync(string prefix = "t", int? port = null)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(40, prefix.Length + 33)];
        var db = new TestDatabase(name, port ?? TestServers.Port);
        await using var admin = new NpgsqlConnection(TestServers.AdminConnectionString(port: db.port));
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE template0", admin);
        await create.ExecuteNonQueryAsync();
        return db;
    }

    /// <summary>An existing database (a scratch copy, say), dropped on dispose.</summary>
    public static TestDatabase Attach(string name, int? port = null) => new(name, port ?? TestServers.Port);

    /// <summary>pg_dump --schema-only of the database, without comments, blank lines and the per-run \restrict keys, for comparing two databases' schemas.</summary>
    public async Task<string> SchemaAsync()
    {
        var start = new System.Diagnostics.ProcessStartInfo("pg_dump") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--schema-only", "--no-owner", "--no-privileges", "-h", TestServers.Host, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", Name })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["PGPASSWORD"] = TestServers.Password;
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("pg_dump --schema-only failed: " + errors);
        }

        return string.Join('\n', output.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("--", StringComparison.Ordinal)
            && !l.StartsWith("\\restrict ", StringComparison.Ordinal) && !l.StartsWith("\\unrestrict ", StringComparison.Ordinal)));
    }

    public async Task<bool> ExistsAsync()
    {
        await using var admin = new NpgsqlConnection(TestServers.AdminConnectionString(port: port));
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = @n", admin);
        command.Parameters.AddWithValue("n", Name);
        return (long)(await command.ExecuteScalarAsync())! == 1;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Every user table's name → md5 of all its rows in a stable order, plus every sequence's state.</summary>
    public async Task<SortedDictionary<string, string>> FingerprintAsync()
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        var tables = new List<(string Schema, string Name, char Kind)>();
        await using (var list = new NpgsqlCommand("""
            SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
            """, connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)[0]));
            }
        }

        foreach (var (schema, name, kind) in tables)
        {
            var q = $"\"{schema.Replace("\"", "\"\"")}\".\"{name.Replace("\"", "\"\"")}\"";
            var sql = kind == 'S'
                ? $"SELECT last_value::text || '/' || is_called::text FROM {q}"
                : $"SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {q} t";
            await using var command = new NpgsqlCommand(sql, connection);
            result[$"{schema}.{name}"] = (string)(await command.ExecuteScalarAsync())!;
        }

        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await using var admin = new NpgsqlConnection(TestServers.AdminConnectionString(port: port));
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}
